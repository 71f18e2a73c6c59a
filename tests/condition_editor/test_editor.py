"""The condition editor: what it offers, what it refuses, and that saved conditions work."""

import copy
import re
import threading
import time

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Role, User
from surveyapp.accounts.services import create_user
from surveyapp.audit.models import AuditEntry
from surveyapp.builder.services import publish_draft
from surveyapp.condition_editor.services import condition_digest, save_condition
from surveyapp.db import db, utcnow
from surveyapp.questionnaires.models import QuestionnaireVersion
from surveyapp.questionnaires.services import get_by_slug, share
from surveyapp.transfer import import_questionnaire, publish_questionnaire
from tests.condition_editor.conftest import (
    DRAFT,
    editor_state,
    log_in,
    page_url,
    press,
    question,
    question_url,
    stored,
)
from tests.conftest import csrf_token
from tests.respondent import Respondent


def plain(html: str) -> str:
    """The page without the invisible marks that isolate quoted texts (FSI, PDI)."""
    return html.replace("\u2068", "").replace("\u2069", "")


def offered_questions(html: str, rule: int = 0) -> list[str]:
    return [v for v in editor_state(html)[1][f"rule-{rule}-question"] if v]


def offered_ops(html: str, rule: int = 0) -> list[str]:
    return editor_state(html)[1].get(f"rule-{rule}-op", [])


def choose(client, url: str, code: str):
    """Without script: pick a question in the first rule and press "Update choices"."""
    html = client.get(url).get_data(as_text=True)
    response = press(client, url, html, ("action", "update"), rule_0_question=code)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_only_earlier_questions_are_offered(staff_client, draft):
    # "age" is second on page 1: only "member" comes before it.
    html = staff_client.get(question_url(draft, "age")).get_data(as_text=True)
    assert offered_questions(html) == ["member"]
    # "why" on page 2: page 1's questions and "topics", without the matrix (no operators).
    html = staff_client.get(question_url(draft, "why")).get_data(as_text=True)
    assert offered_questions(html) == ["member", "age", "note", "topics"]
    # Page 2's condition: only page 1's questions; page 3's: pages 1 and 2.
    html = staff_client.get(page_url(draft, "p2")).get_data(as_text=True)
    assert offered_questions(html) == ["member", "age", "note"]
    html = staff_client.get(page_url(draft, "p3")).get_data(as_text=True)
    assert offered_questions(html) == ["member", "age", "note", "topics", "why"]
    # The first question of the first page has nothing to depend on.
    for url in (question_url(draft, "member"), page_url(draft, "p1")):
        html = staff_client.get(url).get_data(as_text=True)
        assert "nothing a condition could use" in html and "rule-0-question" not in html


@pytest.mark.parametrize("code,ops", [
    ("member", ["one_of", "not", "answered", "not_answered"]),
    ("topics", ["one_of", "not", "answered", "not_answered"]),
    ("age", ["equals", "lt", "le", "gt", "ge", "answered", "not_answered"]),
    ("note", ["answered", "not_answered"]),
])
def test_operators_follow_the_question_type(staff_client, draft, code, ops):
    html = choose(staff_client, question_url(draft, "again"), code)
    assert offered_ops(html) == ops


def test_options_are_checkboxes_with_base_language_labels(staff_client, draft):
    html = choose(staff_client, question_url(draft, "why"), "member")
    assert 'type="checkbox" name="rule-0-values" id="rule-0-values-0" value="short"' in html
    assert "weniger als ein Jahr" in html and "1\u20133 Jahre" in html
    assert 'value="_other"' in html  # "Other" can be tested, "prefer not to answer" not
    assert 'value="_pna"' not in html


def test_multi_step_form_saves_a_condition_and_describes_it(app, staff_client, draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    response = press(staff_client, url, html, rule_0_values=["short", "mid"])
    assert response.status_code == 302
    assert stored(draft, "why") == {
        "all": [{"question": "member", "op": "one_of", "values": ["short", "mid"]}]}
    html = staff_client.get(url).get_data(as_text=True)
    assert ("Shown when “Wie lange waren Sie Mitglied?” is one of “weniger als ein Jahr”, "
            "“1\u20133 Jahre”.") in plain(html)
    entry = db.session.scalars(sa.select(AuditEntry).filter_by(action="condition.change")).one()
    assert entry.target == "questionnaire:cond-draft v1 question:why"


def test_two_rules_with_any_and_a_number(staff_client, draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    html = press(staff_client, url, html, ("action", "add"),
                 rule_0_values=["long"]).get_data(as_text=True)
    assert 'id="rule-1-question" name="rule-1-question" dir="ltr" autofocus' in html
    html = press(staff_client, url, html, ("action", "update"),
                 rule_1_question="age").get_data(as_text=True)
    assert offered_ops(html, 1)[0] == "equals"
    assert 'id="rule-1-op" name="rule-1-op" autofocus' in html
    response = press(staff_client, url, html, combine="any", rule_1_op="ge", rule_1_value="2,5")
    assert response.status_code == 302
    assert stored(draft, "why") == {"any": [
        {"question": "member", "op": "one_of", "values": ["long"]},
        {"question": "age", "op": "ge", "value": 2.5}]}
    html = staff_client.get(url).get_data(as_text=True)
    assert "Shown when any of these is true:" in plain(html)
    # The stored rules come back into the form as they were.
    fields = dict(editor_state(html)[0])
    assert fields["combine"] == "any" and fields["rule-1-op"] == "ge"
    assert fields["rule-1-value"] == "2.5"


def test_remove_a_rule_and_the_whole_condition(staff_client, draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    html = press(staff_client, url, html, ("action", "add"),
                 rule_0_values=["long"]).get_data(as_text=True)
    html = press(staff_client, url, html, ("remove", "0")).get_data(as_text=True)
    assert "rule-1-question" not in html and offered_questions(html) == [
        "member", "age", "note", "topics"]
    html = press(staff_client, url, html, ("action", "update"),
                 rule_0_question="note").get_data(as_text=True)
    assert press(staff_client, url, html, rule_0_op="answered").status_code == 302
    assert stored(draft, "why") == {"all": [{"question": "note", "op": "answered"}]}
    html = staff_client.get(url).get_data(as_text=True)
    assert press(staff_client, url, html, ("action", "clear")).status_code == 302
    assert stored(draft, "why") is None
    assert "always shown" in staff_client.get(url).get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["condition.change", "condition.remove"]


def _post(client, url, **fields):
    """Post the editor form as someone crafting it by hand (rule 0 only)."""
    html = client.get(url).get_data(as_text=True)
    return press(client, url, html, **fields)


@pytest.mark.parametrize("target,fields,message", [
    ("age", {"rule_0_question": "note", "rule_0_shown_for": "note", "rule_0_op": "answered"},
     "is asked after this question"),
    ("age", {"rule_0_question": "age", "rule_0_shown_for": "age", "rule_0_op": "answered"},
     "cannot depend on its own answer"),
    ("why", {"rule_0_question": "grid", "rule_0_shown_for": "grid", "rule_0_op": "answered"},
     "cannot be used in a condition"),
    ("why", {"rule_0_question": "member", "rule_0_shown_for": "member", "rule_0_op": "lt",
             "rule_0_value": "3"}, "does not apply"),
    ("why", {"rule_0_question": "member", "rule_0_shown_for": "member", "rule_0_op": "one_of",
             "rule_0_values": ["short", "nonsense"]}, "is not an answer of this question"),
    ("why", {"rule_0_question": "member", "rule_0_shown_for": "member", "rule_0_op": "one_of",
             "rule_0_values": ["_pna"]}, "is not an answer of this question"),
    ("why", {"rule_0_question": "member", "rule_0_shown_for": "member", "rule_0_op": "not",
             "rule_0_values": ["short", "mid"]}, "takes exactly one answer"),
    ("why", {"rule_0_question": "age", "rule_0_shown_for": "age", "rule_0_op": "lt",
             "rule_0_value": "drei"}, "please enter a number"),
    ("why", {"rule_0_question": "", "rule_0_op": ""}, "Rule 1 is empty"),
    ("why", {"rule_0_question": "nobody", "rule_0_shown_for": "nobody",
             "rule_0_op": "answered"}, "does not exist"),
])
def test_bad_conditions_are_refused_and_nothing_is_stored(staff_client, draft, target, fields,
                                                          message):
    url = question_url(draft, target)
    response = _post(staff_client, url, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'id="error-summary"' in html and 'aria-invalid="true"' in html
    assert stored(draft, target) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_a_bad_rule_beside_a_good_one_stores_nothing_and_keeps_the_choices(staff_client,
                                                                           draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    html = press(staff_client, url, html, ("action", "add"),
                 rule_0_values=["mid"]).get_data(as_text=True)
    html = press(staff_client, url, html, ("action", "update"),
                 rule_1_question="age").get_data(as_text=True)
    response = press(staff_client, url, html, combine="any", rule_1_op="gt",
                     rule_1_value="viele")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Rule 2: please enter a number" in html
    fields = editor_state(html)[0]
    assert ("rule-0-values", "mid") in fields and ("combine", "any") in fields
    assert ("rule-1-op", "gt") in fields and ("rule-1-value", "viele") in fields
    assert 'href="#rule-1-value"' in html
    assert stored(draft, "why") is None


def test_choosing_another_question_without_update_is_not_saved(staff_client, draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    response = press(staff_client, url, html, rule_0_question="topics",
                     rule_0_values=["short"])
    assert response.status_code == 422
    assert "you chose another question" in response.get_data(as_text=True)
    assert stored(draft, "why") is None


def test_page_conditions_refuse_their_own_page_and_later_pages(staff_client, draft):
    url = page_url(draft, "p2")
    for code, message in (("topics", "is on this page"), ("again", "on this page or later")):
        response = _post(staff_client, url, rule_0_question=code, rule_0_shown_for=code,
                         rule_0_op="answered")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert stored(draft, "p2", "page") is None
    html = choose(staff_client, url, "member")
    assert press(staff_client, url, html, rule_0_values=["long"]).status_code == 302
    assert stored(draft, "p2", "page") == {
        "all": [{"question": "member", "op": "one_of", "values": ["long"]}]}
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert entry.target == "questionnaire:cond-draft v1 page:p2"


def test_someone_elses_change_is_not_overwritten(staff_client, draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    # Meanwhile another builder saves a different condition.
    other = {"all": [{"question": "note", "op": "answered"}]}
    question(draft, "why").show_if = other
    db.session.commit()
    response = press(staff_client, url, html, rule_0_values=["short"])
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this condition" in html
    assert "Shown when “Anmerkung?” is answered." in plain(html)
    assert ("rule-0-values", "short") in editor_state(html)[0]  # the choice is kept
    assert stored(draft, "why") == other
    # Saving again from this page replaces the other change, knowingly.
    assert press(staff_client, url, html).status_code == 302
    assert stored(draft, "why") == {
        "all": [{"question": "member", "op": "one_of", "values": ["short"]}]}


def test_the_same_save_twice_is_no_conflict_and_one_log_entry(staff_client, draft):
    url = question_url(draft, "why")
    html = choose(staff_client, url, "member")
    assert press(staff_client, url, html, rule_0_values=["short"]).status_code == 302
    assert press(staff_client, url, html, rule_0_values=["short"]).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1


def test_a_stored_equals_rule_reads_as_one_of(staff_client, draft):
    question(draft, "why").show_if = {"all": [{"question": "member", "op": "equals",
                                               "value": "mid"}]}
    db.session.commit()
    html = staff_client.get(question_url(draft, "why")).get_data(as_text=True)
    assert "Shown when “Wie lange waren Sie Mitglied?” is “1\u20133 Jahre”." in plain(html)
    fields = editor_state(html)[0]
    assert ("rule-0-op", "one_of") in fields and ("rule-0-values", "mid") in fields
    assert 'id="error-summary"' not in html


def test_builders_of_other_questionnaires_are_refused(app, draft):
    client, _ = log_in(app, Role.BUILDER, "other-builder@example.org")
    url = question_url(draft, "why")
    assert client.get(url).status_code == 403
    assert client.post(url, data={"csrf_token": client.csrf, "action": "clear"}
                       ).status_code == 403
    assert client.get(page_url(draft, "p2")).status_code == 403
    evaluator, _ = log_in(app, Role.EVALUATOR, "evaluator@example.org")
    assert evaluator.get(url).status_code == 403
    # Shared with the builder: allowed.
    share(get_by_slug(draft), db.session.scalars(
        sa.select(User).filter_by(email="other-builder@example.org")).one())
    db.session.commit()
    assert client.get(url).status_code == 200


def test_items_of_another_questionnaire_are_not_found(staff_client, draft):
    foreign = get_by_slug("exit-survey").latest_version.pages[0]
    assert staff_client.get(f"/staff/build/{draft}/pages/{foreign.id}/condition"
                            ).status_code == 404
    assert staff_client.get(f"/staff/build/{draft}/questions/999999/condition"
                            ).status_code == 404


def test_published_versions_are_not_edited(staff_client):
    version = get_by_slug("exit-survey").published_version
    target = version.pages[1].questions[0]
    url = f"/staff/build/exit-survey/questions/{target.id}/condition"
    before = target.show_if
    response = staff_client.get(url)
    assert response.status_code == 409
    assert "new draft version" in response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    response = staff_client.post(url, data={"csrf_token": csrf_token(html), "action": "clear"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(type(target), target.id).show_if == before
    assert staff_client.get(f"/staff/build/exit-survey/pages/{version.pages[1].id}/condition"
                            ).status_code == 409


def test_a_save_checked_before_a_publish_committed_does_not_write_into_it(app, draft):
    """The session still holds the version as a draft, as a request that read it just before
    another one published it; the save must look again under the version's lock."""
    item = question(draft, "why")
    version = item.version
    assert version.published_at is None  # read into the session as a draft
    db.session.execute(sa.update(QuestionnaireVersion).where(
        QuestionnaireVersion.id == version.id).values(published_at=utcnow()),
        execution_options={"synchronize_session": False})
    assert version.published_at is None  # the session's copy is stale, as in the race
    condition = {"all": [{"question": "member", "op": "one_of", "values": ["long"]}]}
    with pytest.raises(ValueError):
        save_condition(item, condition, condition_digest(item.show_if), None)
    assert stored(draft, "why") is None


def _publish(slug: str) -> None:
    publish_questionnaire(get_by_slug(slug))
    db.session.commit()


def test_a_saved_question_condition_hides_and_shows_in_the_respondent_flow(app, staff_client,
                                                                            draft):
    url = question_url(draft, "age")
    html = choose(staff_client, url, "member")
    assert press(staff_client, url, html, rule_0_values=["long"]).status_code == 302
    _publish(draft)

    hidden = Respondent(app.test_client(), draft)
    hidden.start()
    assert _is_hidden(hidden.page().get_data(as_text=True), "age")
    response = hidden.post({"member": "short", "shown": "member note"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/p2")

    shown = Respondent(app.test_client(), draft)
    shown.start()
    response = shown.post({"member": "long", "shown": "member note"})
    # Without the page script, a question that appears keeps the respondent on the page.
    assert response.status_code == 302 and response.headers["Location"].endswith("/p1")
    html = shown.page().get_data(as_text=True)
    assert not _is_hidden(html, "age")
    assert "more questions appeared" in html


def _is_hidden(html: str, code: str) -> bool:
    box = re.search(rf'<div class="question[^"]*" id="q-{code}"[^>]*>', html).group(0)
    return box.rstrip(">").endswith(" hidden")


def test_a_saved_page_condition_skips_the_page(app, staff_client, draft):
    url = page_url(draft, "p2")
    html = choose(staff_client, url, "member")
    assert press(staff_client, url, html, rule_0_values=["long"]).status_code == 302
    _publish(draft)

    skips = Respondent(app.test_client(), draft)
    skips.start()
    response = skips.post({"member": "short", "shown": "member age note"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/p3")

    sees = Respondent(app.test_client(), draft)
    sees.start()
    response = sees.post({"member": "long", "shown": "member age note"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/p2")


def test_two_builders_saving_at_once_never_overwrite_each_other(committing_app):
    """Both opened the same condition; they save different ones at the same moment."""
    with committing_app.app_context():
        import_questionnaire(copy.deepcopy(DRAFT))
        create_user("race@example.org", Role.ADMIN, "a long enough password")
        db.session.commit()
        url = question_url(DRAFT["slug"], "why")
    pages = []
    for _ in range(2):
        client = committing_app.test_client()
        token = csrf_token(client.get("/staff/login").get_data(as_text=True))
        client.post("/staff/login", data={"csrf_token": token, "email": "race@example.org",
                                          "password": "a long enough password"})
        pages.append((client, choose(client, url, "member")))
    results = []
    barrier = threading.Barrier(2)

    def save(client, html, answer):
        barrier.wait()
        results.append((answer, press(client, url, html, rule_0_values=[answer]).status_code))

    threads = [threading.Thread(target=save, args=(*pages[n], answer))
               for n, answer in enumerate(("short", "long"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for _answer, code in results) == [302, 409], results
    winner = next(answer for answer, code in results if code == 302)
    with committing_app.app_context():
        assert stored(DRAFT["slug"], "why")["all"][0]["values"] == [winner]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "condition.change")) == 1


def test_a_save_while_the_version_is_being_published_gets_the_published_page(committing_app):
    """The publish holds the version's lock when the save arrives: the save waits for it and
    is then refused with the 'published' page, not a server error or a write."""
    with committing_app.app_context():
        import_questionnaire(copy.deepcopy(DRAFT))
        create_user("race@example.org", Role.ADMIN, "a long enough password")
        db.session.commit()
        url = question_url(DRAFT["slug"], "why")
    client = committing_app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"csrf_token": token, "email": "race@example.org",
                                      "password": "a long enough password"})
    html = choose(client, url, "member")
    results = []
    with committing_app.test_request_context("/", method="POST"):  # the publish, mid-request
        publish_draft(get_by_slug(DRAFT["slug"]), None)
        saving = threading.Thread(target=lambda: results.append(
            press(client, url, html, rule_0_values=["long"])))
        saving.start()
        time.sleep(1.5)  # the save has passed the first check and waits for the lock
        db.session.commit()
        db.session.remove()
    saving.join(timeout=60)
    [response] = results
    assert response.status_code == 409
    assert "new draft version" in response.get_data(as_text=True)
    with committing_app.app_context():
        assert stored(DRAFT["slug"], "why") is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "condition.change")) == 0
