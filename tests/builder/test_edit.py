"""The edit screen: questions of every type with their settings, options, pages, order."""

import json

import pytest

from surveyapp.builder.services import draft_version
from surveyapp.db import db
from surveyapp.questionnaires.question_types import REGISTRY
from surveyapp.questionnaires.services import get_by_slug
from tests.builder.conftest import editor_form, start_from_template


def question_by_code(slug: str, code: str):
    db.session.expire_all()
    version = draft_version(get_by_slug(slug))
    return next(q for q in version.questions if q.code == code)


def question_form(client, slug: str, question_id: int) -> tuple[str, dict]:
    return editor_form(client, slug, f"/questions/{question_id}")


def save(client, slug: str, question_id: int, headers=None, **changes):
    action, data = question_form(client, slug, question_id)
    data.update(changes)
    return client.post(action, data=data, headers=headers or {})


@pytest.fixture
def exit_draft(app, builder):
    start_from_template(builder, "exit-survey", "exit-edit")
    return "exit-edit"


def test_saving_a_question_changes_only_the_base_language_text(app, builder, exit_draft):
    question = question_by_code(exit_draft, "member_duration")
    english = question.text["en"]
    response = save(builder, exit_draft, question.id, text="Seit wann waren Sie dabei?",
                    help="Ungefähr reicht.", required="")
    assert response.status_code == 302
    question = question_by_code(exit_draft, "member_duration")
    assert question.text == {"de": "Seit wann waren Sie dabei?", "en": english}
    assert question.help == {"de": "Ungefähr reicht."}
    assert question.is_required is False


def test_every_type_can_be_added_and_saved_with_its_settings(app, builder, exit_draft):
    page_id = draft_version(get_by_slug(exit_draft)).pages[0].id
    values = {"integer": {"min": "1", "max": "90"}, "decimal": {"min": "0,5", "max": "9.5"},
              "date": {"min": "2020-01-01", "max": "2030-12-31"},
              "short_text": {"max_length": "80"}, "long_text": {"max_length": "3000"},
              "multiple_choice": {"min_selections": "1", "max_selections": "2"},
              "rating": {"min_label": "gar nicht", "max_label": "sehr"}}
    for type_name, question_type in REGISTRY.items():
        action, data = editor_form(builder, exit_draft, f"/pages/{page_id}/questions")
        data.update(text=f"Frage {type_name}", type=type_name)
        assert builder.post(action, data=data).status_code == 302
        question = next(q for q in draft_version(get_by_slug(exit_draft)).questions
                        if q.text.get("de") == f"Frage {type_name}")
        settings = {f"setting-{k}": v for k, v in values.get(type_name, {}).items()}
        extra = {"other": "y"} if question_type.allows_other else {}
        response = save(builder, exit_draft, question.id, required="y", prefer_not="y",
                        **settings, **extra)
        assert response.status_code == 302, (type_name, response.get_data(as_text=True)[:500])
        question = question_by_code(exit_draft, question.code)
        assert question.is_required and question.has_prefer_not
        assert question.has_other is question_type.allows_other
        assert question_type.definition_errors(question) == [], type_name
    integer = next(q for q in draft_version(get_by_slug(exit_draft)).questions
                   if q.type == "integer")
    assert integer.settings == {"min": 1, "max": 90}
    rating = next(q for q in draft_version(get_by_slug(exit_draft)).questions
                  if q.type == "rating")
    assert rating.settings["min_label"] == {"de": "gar nicht"}
    decimal = next(q for q in draft_version(get_by_slug(exit_draft)).questions
                   if q.type == "decimal")
    assert decimal.settings == {"min": 0.5, "max": 9.5}


def test_bad_settings_are_refused_with_a_message_and_the_typing_kept(app, builder, exit_draft):
    page_id = draft_version(get_by_slug(exit_draft)).pages[0].id
    action, data = editor_form(builder, exit_draft, f"/pages/{page_id}/questions")
    data.update(text="Wie alt sind Sie?", type="integer")
    builder.post(action, data=data)
    question = next(q for q in draft_version(get_by_slug(exit_draft)).questions
                    if q.type == "integer")
    response = save(builder, exit_draft, question.id, **{"setting-min": "50",
                                                         "setting-max": "zehn",
                                                         "help": "Mein Hilfetext"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please enter a whole number." in html
    assert "Mein Hilfetext" in html and 'value="zehn"' in html
    assert question_by_code(exit_draft, question.code).settings == {}


def test_options_are_added_relabelled_reordered_and_removed(app, builder, exit_draft):
    question = question_by_code(exit_draft, "member_duration")
    ids = [o.id for o in question.options]
    # Add two options (one per line) and relabel the first, in one save.
    response = save(builder, exit_draft, question.id, new_options="Gar nicht\nWeiß nicht",
                    **{f"option-{ids[0]}-label": "Unter einem Jahr"})
    assert response.status_code == 302
    question = question_by_code(exit_draft, "member_duration")
    labels = [o.label["de"] for o in question.options]
    assert labels[0] == "Unter einem Jahr" and labels[-2:] == ["Gar nicht", "Weiß nicht"]
    # Down button on the first option, with a typed change in the same form kept.
    response = save(builder, exit_draft, question.id, action=f"down:{ids[0]}",
                    text="Geändert beim Verschieben")
    question = question_by_code(exit_draft, "member_duration")
    assert [o.id for o in question.options][:2] == [ids[1], ids[0]]
    assert question.text["de"] == "Geändert beim Verschieben"
    # Drag and drop sends the order in the hidden field.
    new_order = list(reversed([o.id for o in question.options]))
    save(builder, exit_draft, question.id, option_order=" ".join(map(str, new_order)))
    assert [o.id for o in question_by_code(exit_draft, "member_duration").options] == new_order
    # Remove one.
    save(builder, exit_draft, question.id, action=f"delete:{ids[1]}")
    assert ids[1] not in [o.id for o in question_by_code(exit_draft, "member_duration").options]


def test_matrix_rows_and_scale(app, builder, exit_draft):
    page_id = draft_version(get_by_slug(exit_draft)).pages[0].id
    action, data = editor_form(builder, exit_draft, f"/pages/{page_id}/questions")
    data.update(text="Wie zufrieden waren Sie mit …", type="matrix")
    builder.post(action, data=data)
    question = next(q for q in draft_version(get_by_slug(exit_draft)).questions
                    if q.type == "matrix")
    save(builder, exit_draft, question.id, new_rows="Treffen\nInformationen",
         new_options="sehr")
    question = question_by_code(exit_draft, question.code)
    assert [r.label["de"] for r in question.rows][-2:] == ["Treffen", "Informationen"]
    assert len(question.options) == 3
    assert REGISTRY["matrix"].definition_errors(question) == []


def test_type_change_drops_options_of_types_without_them(app, builder, exit_draft):
    question = question_by_code(exit_draft, "member_duration")
    assert save(builder, exit_draft, question.id, type="short_text").status_code == 302
    question = question_by_code(exit_draft, "member_duration")
    assert question.type == "short_text" and question.choices == []
    # Back to a type with options: two options to start from.
    assert save(builder, exit_draft, question.id, type="matrix").status_code == 302
    question = question_by_code(exit_draft, "member_duration")
    assert (len(question.options), len(question.rows)) == (2, 1)


def test_pages_are_added_renamed_moved_and_deleted(app, builder, exit_draft):
    action, data = editor_form(builder, exit_draft, "/pages", index=-1)
    assert action.endswith("/pages")
    data["title"] = "Zum Schluss"
    assert builder.post(action, data=data).status_code == 302
    version = draft_version(get_by_slug(exit_draft))
    new_page = version.pages[-1]
    assert new_page.title == {"de": "Zum Schluss"}
    new_page_id = new_page.id
    action, data = editor_form(builder, exit_draft, f"/pages/{new_page.id}")
    data.update(title="Ganz am Ende", action="rename")
    builder.post(action, data=data)
    action, data = editor_form(builder, exit_draft, f"/pages/{new_page.id}", index=1)
    builder.post(action, data={**data, "action": "up"})
    db.session.expire_all()
    version = draft_version(get_by_slug(exit_draft))
    assert version.pages[-2].id == new_page.id
    assert version.pages[-2].title == {"de": "Ganz am Ende"}
    action, data = editor_form(builder, exit_draft, f"/pages/{new_page.id}", index=1)
    assert builder.post(action, data={**data, "action": "delete"}).status_code == 302
    db.session.expire_all()
    assert new_page_id not in [p.id for p in draft_version(get_by_slug(exit_draft)).pages]


def test_questions_move_duplicate_and_delete(app, builder, exit_draft):
    version = draft_version(get_by_slug(exit_draft))
    first_page, second_page = version.pages[0], version.pages[1]
    question = first_page.questions[0]
    action, data = editor_form(builder, exit_draft, f"/questions/{question.id}/structure")
    assert builder.post(action, data={**data, "action": "down"}).status_code == 302
    db.session.expire_all()
    version = draft_version(get_by_slug(exit_draft))
    assert version.pages[0].questions[1].id == question.id
    action, data = editor_form(builder, exit_draft, f"/questions/{question.id}/structure")
    builder.post(action, data={**data, "action": "move", "page": second_page.id})
    db.session.expire_all()
    version = draft_version(get_by_slug(exit_draft))
    assert version.pages[1].questions[-1].id == question.id
    action, data = editor_form(builder, exit_draft, f"/questions/{question.id}/structure")
    builder.post(action, data={**data, "action": "duplicate"})
    db.session.expire_all()
    version = draft_version(get_by_slug(exit_draft))
    twin = version.pages[1].questions[-1]
    assert twin.id != question.id and twin.text == question.text and twin.code != question.code
    twin_id = twin.id
    action, data = editor_form(builder, exit_draft, f"/questions/{twin.id}/structure")
    builder.post(action, data={**data, "action": "delete"})
    db.session.expire_all()
    assert twin_id not in [q.id for q in draft_version(get_by_slug(exit_draft)).questions]


def test_drag_and_drop_order_is_saved_and_a_stale_one_refused(app, builder, exit_draft):
    version = draft_version(get_by_slug(exit_draft))
    layout = [{"page": p.id, "questions": [q.id for q in p.questions]} for p in version.pages]
    layout.reverse()
    moved = layout[1]["questions"].pop(0)
    layout[0]["questions"].append(moved)
    html = builder.get(f"/staff/build/{exit_draft}").get_data(as_text=True)
    structure = html.split('data-structure="')[1].split('"')[0]
    response = builder.post(f"/staff/build/{exit_draft}/order", data={
        "csrf_token": builder.csrf, "structure": structure, "layout": json.dumps(layout)},
        headers={"X-Requested-With": "builder"})
    assert response.status_code == 200
    db.session.expire_all()
    version = draft_version(get_by_slug(exit_draft))
    assert [p.id for p in version.pages] == [item["page"] for item in layout]
    assert version.pages[0].questions[-1].id == moved
    # The same token again is stale now.
    response = builder.post(f"/staff/build/{exit_draft}/order", data={
        "csrf_token": builder.csrf, "structure": structure, "layout": json.dumps(layout)},
        headers={"X-Requested-With": "builder"})
    assert response.status_code == 409
    assert "Someone else changed" in response.get_json()["message"]


def test_a_background_save_returns_only_that_question(app, builder, exit_draft):
    question = question_by_code(exit_draft, "member_duration")
    response = save(builder, exit_draft, question.id, text="Nur diese Frage",
                    headers={"X-Requested-With": "builder"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.strip().startswith('<li class="bq is-open"') and "Nur diese Frage" in html
    assert "<html" not in html and "Saved." in html


def test_field_errors_are_summarised_with_links_to_the_fields(app, builder, exit_draft):
    question = question_by_code(exit_draft, "member_duration")
    first = question.options[0]
    response = save(builder, exit_draft, question.id, text="",
                    **{f"option-{first.id}-label": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html.split("Please check the question")[1].split("</ul>")[0]
    assert f'href="#q{question.id}-text"' in summary
    assert f'href="#q{question.id}-option-{first.id}-label"' in summary
    assert f'id="q{question.id}-text"' in html
    assert f'id="q{question.id}-option-{first.id}-label"' in html


def test_options_and_pages_can_be_duplicated(app, builder, exit_draft):
    question = question_by_code(exit_draft, "member_duration")
    first = question.options[0]
    assert save(builder, exit_draft, question.id,
                action=f"duplicate:{first.id}").status_code == 302
    options = question_by_code(exit_draft, "member_duration").options
    assert options[1].label == first.label and options[1].code == f"{first.code}_1"
    version = draft_version(get_by_slug(exit_draft))
    second_page = version.pages[1]
    codes = [q.code for q in second_page.questions]
    action, data = editor_form(builder, exit_draft, f"/pages/{second_page.id}", index=1)
    assert builder.post(action, data={**data, "action": "duplicate"}).status_code == 302
    db.session.expire_all()
    version = draft_version(get_by_slug(exit_draft))
    twin = version.pages[2]
    assert twin.title == second_page.title and len(version.pages) == 4
    assert [q.type for q in twin.questions] == [q.type for q in version.pages[1].questions]
    assert not set(codes) & {q.code for q in twin.questions}
    # The copied conditions still refer to earlier questions: the draft stays publishable
    # apart from the English texts, which the copies carry too.
    from surveyapp.builder.services import draft_problems

    assert draft_problems(get_by_slug(exit_draft), version) == []
