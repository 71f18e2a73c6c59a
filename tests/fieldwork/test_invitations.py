"""Personal invitations: contact upload, anonymous codes, single-use links, privacy."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Unit
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db, utcnow
from surveyapp.fieldwork import services
from surveyapp.fieldwork.models import Contact, Invitation, MessageKind, SentMessage
from surveyapp.questionnaires.services import get_by_slug
from surveyapp.responses.models import Answer, Response, ResponseStatus
from surveyapp.responses.services import anonymise_responses
from tests.conftest import count_rows, csrf_token, hidden_values
from tests.respondent import Respondent

SLUG = "exit-survey"  # languages de, en; anonymous
BASE = f"/staff/questionnaires/{SLUG}/invitations"


def questionnaire(slug: str = SLUG):
    return get_by_slug(slug)


def upload(client, content: bytes, filename: str = "contacts.csv", valid_days: str = "60"):
    token = csrf_token(client.get(BASE).get_data(as_text=True))
    return client.post(BASE + "/upload", data={
        "csrf_token": token, "valid_days": valid_days,
        "file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def contacts() -> list[Contact]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Contact).order_by(Contact.id)))


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def german_list(encoding: str = "utf-8-sig") -> bytes:
    return ("Name;E-Mail;Telefon;Einheit;Sprache\r\n"
            "Jürgen Weiß;Juergen@Example.org;;koeln;de\r\n"
            "Amira Haddad;;+49 171 2345678;leipzig;EN\r\n"
            "Olena;olena@example.org;0049 30 1234567;;\r\n").encode(encoding)


def test_a_clean_german_list_is_imported_with_one_link_each(app, staff_client):
    response = upload(staff_client, german_list())
    assert response.status_code == 302
    stored = contacts()
    assert [(c.name, c.email, c.phone, c.language) for c in stored] == [
        ("Jürgen Weiß", "juergen@example.org", None, "de"),
        ("Amira Haddad", None, "+491712345678", "en"),
        ("Olena", "olena@example.org", "+49301234567", "de"),  # base language by default
    ]
    koeln = db.session.scalar(sa.select(Unit.id).where(Unit.code == "koeln"))
    assert stored[0].unit_id == koeln
    invitations = list(db.session.scalars(sa.select(Invitation)))
    assert len(invitations) == 3 and all(i.contact_id for i in invitations)
    # Only the digest of the token is stored, never the token itself.
    for invitation in invitations:
        token = services.token_for(invitation)
        assert invitation.token_digest != token and token not in str(
            db.session.execute(sa.select(Invitation.__table__)).all())
    page = staff_client.get(BASE).get_data(as_text=True)
    assert "3 contacts imported" in page
    assert "invitations.import" in audit_actions()


def test_windows_1252_and_tab_separated_english_headers(app, staff_client):
    content = ("full name\temail address\tmobile\tunit code\tlanguage\n"
               "Zoë Müller\tzoe@example.org\t\tnrw\ten\n").encode("cp1252")
    assert upload(staff_client, content).status_code == 302
    assert [(c.name, c.email) for c in contacts()] == [("Zoë Müller", "zoe@example.org")]


def test_bad_rows_are_reported_with_lines_and_nothing_is_imported(app, staff_client):
    content = (b"name,email,phone,unit,language\n"
               b"Good One,good@example.org,,koeln,de\n"
               b"No Address,,,,\n"
               b"Bad Mail,not-an-address,,,\n"
               b"Bad Phone,,12ab34567,,\n"
               b"Bad Unit,unit@example.org,,atlantis,\n"
               b"Bad Language,lang@example.org,,,fa\n"
               b"Twice,GOOD@example.org,,,\n"
               b"Good Two,,030 123456,,en\n")
    response = upload(staff_client, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert count_rows(Contact) == 0 and count_rows(Invitation) == 0
    report = html[html.index("Rejected rows"):html.index("</table>", html.index("Rejected rows"))]
    lines = [int(n) for n in re.findall(r'<th scope="row">(\d+)</th>', report)]
    assert lines == [3, 4, 5, 6, 7, 8]
    for reason in ("Neither an e-mail address nor a phone number", "e-mail address is not valid",
                   "phone number may only contain", "no unit with the code “atlantis”",
                   "not offered in the language “fa”", "appears earlier in the file (line 2)"):
        assert reason in report, reason
    assert "Import the 2 valid rows and skip the others" in html

    # The explicit second step imports the good rows only, once.
    values = hidden_values(html[html.index("invitation-report"):])
    again = staff_client.post(BASE + "/import-valid", data=values)
    assert again.status_code == 302
    assert [c.name for c in contacts()] == ["Good One", "Good Two"]
    repeated = staff_client.post(BASE + "/import-valid", data=values)
    assert repeated.status_code == 302
    assert count_rows(Contact) == 2


def test_uploading_the_same_list_twice_does_not_double_anyone(app, staff_client):
    assert upload(staff_client, german_list()).status_code == 302
    second = upload(staff_client, german_list())
    assert second.status_code == 422
    assert second.get_data(as_text=True).count("already in the contact list") == 3
    assert "Import the" not in second.get_data(as_text=True)
    assert count_rows(Contact) == 3 and count_rows(Invitation) == 3


def test_unreadable_files_are_refused_with_a_message(app, staff_client):
    no_header = upload(staff_client, b"Anna,anna@example.org\n")
    assert no_header.status_code == 422
    assert "The first line must name the columns" in no_header.get_data(as_text=True)
    empty = upload(staff_client, b"")
    assert empty.status_code == 422
    assert count_rows(Contact) == 0


def test_anonymous_codes_are_created_and_downloaded_for_printing(app, staff_client):
    token = csrf_token(staff_client.get(BASE).get_data(as_text=True))
    created = staff_client.post(BASE + "/codes", data={"csrf_token": token, "count": "5",
                                                       "valid_days": "30"})
    assert created.status_code == 302
    assert count_rows(Invitation) == 5
    refused = staff_client.post(BASE + "/codes", data={"csrf_token": token, "count": "0",
                                                       "valid_days": "30"})
    assert refused.status_code == 422 and count_rows(Invitation) == 5
    download = staff_client.post(BASE + "/codes.csv", data={"csrf_token": token})
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    links = [row[1] for row in rows[1:]]
    assert len(links) == 5 and len(set(links)) == 5
    # Each link opens the questionnaire's consent page.
    path = links[0].split("localhost", 1)[1]
    assert staff_client.application.test_client().get(path).status_code == 200
    assert "invitations.export_codes" in audit_actions()


def test_a_double_click_on_create_codes_creates_them_once(app, staff_client):
    form = hidden_values(staff_client.get(BASE).get_data(as_text=True).split(
        'id="codes-heading"')[1])
    assert len(form["batch_key"]) == 32
    data = {**form, "count": "3", "valid_days": "30"}
    assert staff_client.post(BASE + "/codes", data=data).status_code == 302
    assert staff_client.post(BASE + "/codes", data=data).status_code == 302
    assert count_rows(Invitation) == 3
    assert "already created" in staff_client.get(BASE).get_data(as_text=True)


def test_mail_merge_export_has_a_working_link_per_open_contact(app, staff_client):
    upload(staff_client, german_list())
    token = csrf_token(staff_client.get(BASE).get_data(as_text=True))
    download = staff_client.post(BASE + "/mail-merge.csv", data={"csrf_token": token})
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["name"] for r in rows] == ["Amira Haddad", "Jürgen Weiß", "Olena"]
    assert rows[0]["language"] == "en" and rows[0]["unit"] == "leipzig"
    digests = {services.digest(r["link"].rsplit("/", 1)[1]) for r in rows}
    assert digests == set(db.session.scalars(sa.select(Invitation.token_digest)))
    assert "invitations.export_mail_merge" in audit_actions()


def test_a_name_that_looks_like_a_formula_is_exported_as_text(app, staff_client):
    upload(staff_client, b"name,email\n=HYPERLINK(\"http://x\"),x@example.org\n")
    token = csrf_token(staff_client.get(BASE).get_data(as_text=True))
    download = staff_client.post(BASE + "/mail-merge.csv", data={"csrf_token": token})
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["name"] == "'=HYPERLINK(\"http://x\")"


def test_an_address_that_looks_like_a_formula_is_exported_as_text(app, staff_client):
    from surveyapp.fieldwork.contacts_csv import ContactRow

    # The importer's own check refuses such addresses; older or imported data may hold one.
    services.import_contacts(questionnaire(), [ContactRow(
        line=2, name="Anna", email="=1+2@example.org", phone=None, unit_code="",
        language="en")])
    db.session.commit()
    token = csrf_token(staff_client.get(BASE).get_data(as_text=True))
    download = staff_client.post(BASE + "/mail-merge.csv", data={"csrf_token": token})
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and all(not r["email"].startswith(("=", "+", "-", "@")) for r in rows)


def make_invitation(slug: str = SLUG, *, language: str = "en", unit: str | None = "koeln",
                    email: str = "amira@example.org") -> tuple[Invitation, str]:
    q = questionnaire(slug)
    unit_id = db.session.scalar(sa.select(Unit.id).where(Unit.code == unit)) if unit else None
    from surveyapp.fieldwork.contacts_csv import ContactRow
    [contact] = services.import_contacts(q, [ContactRow(
        line=2, name="Amira", email=email, phone=None, unit_code=unit or "",
        language=language, unit_id=unit_id)])
    db.session.commit()
    invitation = contact.invitations[0]
    return invitation, services.token_for(invitation)


def start_with_link(client, token: str) -> Respondent:
    page = client.get(f"/i/{token}")
    assert page.status_code == 200, page.status_code
    data = {**hidden_values(page.get_data(as_text=True)), "consent": "y"}
    started = client.post(f"/i/{token}", data=data)
    assert started.status_code == 302, started.get_data(as_text=True)
    respondent = Respondent(client, SLUG)
    respondent.url = started.headers["Location"]
    return respondent


def test_a_link_opens_the_questionnaire_in_the_contacts_language_and_unit(app, client):
    invitation, token = make_invitation(language="en")
    page = client.get(f"/i/{token}", headers={"Accept-Language": "de"})
    assert '<html lang="en"' in page.get_data(as_text=True)
    respondent = start_with_link(client, token)
    draft = db.session.scalars(sa.select(Response)).one()
    assert draft.language == "en"
    assert draft.unit_id == db.session.scalar(sa.select(Unit.id).where(Unit.code == "koeln"))
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).response_id == draft.id
    # Opened again (another day, another browser): the invitee continues their own draft.
    again = app.test_client().get(f"/i/{token}")
    assert again.status_code == 302
    assert again.headers["Location"].split("?")[0] == respondent.url.split("?")[0].rsplit(
        "/", 1)[0] + "/" + draft.current_page


@pytest.mark.parametrize("day_only", [True, False], ids=["day-only", "exact-times-chosen"])
def test_anonymous_submission_marks_the_link_used_and_leaves_no_link(app, client, day_only):
    # Even with exact times chosen, an anonymous questionnaire keeps only the day: the
    # moment the link was used would otherwise match the moment the answers were sent.
    questionnaire().coarse_timestamps = day_only
    invitation, token = make_invitation()
    respondent = start_with_link(client, token)
    respondent.complete()
    db.session.expire_all()
    response = db.session.scalars(sa.select(Response)).one()
    stored = db.session.get(Invitation, invitation.id)
    assert response.status is ResponseStatus.COMPLETE
    assert stored.response_id is None  # no column leads from the invitation to the answers
    assert stored.used_at is not None
    assert (stored.used_at.hour, stored.used_at.minute, stored.used_at.second) == (0, 0, 0)
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            for key in column.foreign_keys:
                if key.column.table.name == "invitations":
                    linked = db.session.execute(sa.select(column).where(
                        column == invitation.id)).all()
                    assert table.name in ("sent_messages",) or not linked, table.name
    # The used link leads to a clear page, never to the answers.
    used = client.get(f"/i/{token}")
    assert used.status_code == 410
    assert "This link has been used" in used.get_data(as_text=True)
    assert app.test_client().post(f"/i/{token}", data={"consent": "y"}).status_code == 410
    assert count_rows(Response) == 1
    counts = services.invitation_counts(questionnaire())
    assert counts["invited"] == 1 and counts["used"] == 1 and counts["started"] == 0


def test_anonymous_list_shows_only_counts(app, staff_client):
    upload(staff_client, german_list())
    html = staff_client.get(BASE).get_data(as_text=True)
    assert "only these counts are shown" in html
    assert "Jürgen" not in html and "olena@example.org" not in html


def test_non_anonymous_list_shows_who_has_not_answered(app, staff_client):
    q = questionnaire()
    q.is_anonymous = False
    q.coarse_timestamps = False
    db.session.commit()
    upload(staff_client, german_list())
    jurgen = db.session.scalars(sa.select(Invitation).join(Contact).where(
        Contact.name == "Jürgen Weiß")).one()
    respondent = start_with_link(staff_client.application.test_client(),
                                 services.token_for(jurgen))
    respondent.complete()
    db.session.expire_all()
    stored = db.session.get(Invitation, jurgen.id)
    assert stored.response_id is not None and stored.used_at is not None
    html = staff_client.get(BASE).get_data(as_text=True)
    waiting = html[html.index("Not answered yet"):]
    assert "Amira Haddad" in waiting and "Olena" in waiting and "Jürgen" not in waiting


def test_expired_and_unknown_links_get_a_clear_translated_page(app, client):
    invitation, token = make_invitation(language="en")
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = client.get(f"/i/{token}")
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    unknown = client.get("/i/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         headers={"Accept-Language": "ar"})
    assert unknown.status_code == 404
    assert '<html lang="ar" dir="rtl">' in unknown.get_data(as_text=True)
    assert count_rows(Response) == 0


def test_anonymising_later_cuts_the_links_of_sent_responses(app, client):
    q = questionnaire()
    q.is_anonymous = False
    q.coarse_timestamps = False
    db.session.commit()
    invitation, token = make_invitation()
    start_with_link(client, token).complete()
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).response_id is not None
    anonymise_responses(q)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Invitation, invitation.id)
    assert stored.response_id is None and stored.used_at.hour == 0


def test_admin_finds_and_erases_by_invitation(app, staff_client):
    q = questionnaire()
    q.is_anonymous = False
    db.session.commit()
    invitation, token = make_invitation()
    start_with_link(staff_client.application.test_client(), token).complete()
    response_id = db.session.scalars(sa.select(Response.id)).one()
    lookup_page = staff_client.get("/staff/privacy/")
    csrf = csrf_token(lookup_page.get_data(as_text=True))
    for typed in ("AMIRA@example.org", token, f"http://localhost/i/{token}"):
        found = staff_client.post("/staff/privacy/invitation",
                                  data={"csrf_token": csrf, "address": typed})
        assert found.status_code == 200, typed
        html = found.get_data(as_text=True)
        assert "Contact found" in html and f"/staff/privacy/{response_id}/export" in html
    missing = staff_client.post("/staff/privacy/invitation",
                                data={"csrf_token": csrf, "address": "nobody@example.org"})
    assert missing.status_code == 422
    assert audit_actions().count("privacy.lookup_invitation") == 4
    # Erasing the contact erases its invitation and sent-message records too.
    db.session.add(SentMessage(invitation_id=invitation.id, kind=MessageKind.INVITATION,
                               status="sent"))
    db.session.commit()
    contact_id = invitation.contact_id
    refused = staff_client.post(f"/staff/privacy/contacts/{contact_id}/erase",
                                data={"csrf_token": csrf})
    assert refused.status_code == 422 and count_rows(Contact) == 1
    erased = staff_client.post(f"/staff/privacy/contacts/{contact_id}/erase",
                               data={"csrf_token": csrf, "confirm": "y"})
    assert erased.status_code == 200
    assert count_rows(Contact) == 0 and count_rows(Invitation) == 0
    assert count_rows(SentMessage) == 0
    assert "contact.erase" in audit_actions()
    # The response itself is erased with the existing action.
    staff_client.post(f"/staff/privacy/{response_id}/erase",
                      data={"csrf_token": csrf, "confirm": "y"})
    assert count_rows(Response) == 0 and count_rows(Answer) == 0


def test_anonymous_questionnaires_cannot_be_searched_by_invitation(app, staff_client):
    _invitation, token = make_invitation()
    csrf = csrf_token(staff_client.get("/staff/privacy/").get_data(as_text=True))
    found = staff_client.post("/staff/privacy/invitation", data={"csrf_token": csrf,
                                                                 "address": token})
    assert found.status_code == 422


def test_contacts_for_filters_units_and_people_who_said_no(app):
    q = questionnaire()
    make_invitation(email="a@example.org", unit="koeln")
    make_invitation(email="b@example.org", unit="leipzig")
    third, _t = make_invitation(email="c@example.org", unit="koeln")
    third.contact.do_not_contact = True
    db.session.commit()
    koeln = db.session.scalar(sa.select(Unit.id).where(Unit.code == "koeln"))
    assert [c.email for c in services.contacts_for(q)] == ["a@example.org", "b@example.org"]
    assert [c.email for c in services.contacts_for(q, unit_ids=[koeln])] == ["a@example.org"]


def test_builders_only_manage_invitations_of_their_questionnaires(app):
    from surveyapp.accounts.models import Role
    from surveyapp.accounts.services import create_user
    create_user("builder@example.org", Role.BUILDER, "a long enough password")
    db.session.commit()
    client = app.test_client()
    page = client.get("/staff/login")
    client.post("/staff/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                      "email": "builder@example.org",
                                      "password": "a long enough password"})
    assert client.get(BASE).status_code == 403


def element_ids(html: str) -> list[str]:
    return re.findall(r'\sid="([^"]+)"', html)


def test_pages_have_unique_ids_and_labelled_controls(app, staff_client):
    q = questionnaire()
    q.is_anonymous = False
    db.session.commit()
    upload(staff_client, german_list())
    report = upload(staff_client, german_list() + b"Bad;x;;;\r\n").get_data(as_text=True)
    invitation = db.session.scalars(sa.select(Invitation)).first()
    csrf = csrf_token(report)
    found = staff_client.post("/staff/privacy/invitation", data={
        "csrf_token": csrf, "address": services.token_for(invitation)}).get_data(as_text=True)
    for html in (report, found):
        ids = element_ids(html)
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        for control in re.findall(r'<input (?![^>]*type="hidden")[^>]*id="([^"]+)"', html):
            assert f'for="{control}"' in html, control


def test_services_for_phone_campaigns(app):
    invitation, _token = make_invitation()
    contact = invitation.contact
    assert services.invitation_of(contact).id == invitation.id
    services.mark_do_not_contact(contact)
    assert services.contacts_for(questionnaire()) == []


def test_starting_without_consent_stores_nothing_and_keeps_the_link_open(app, client):
    invitation, token = make_invitation(language="en")
    page = client.get(f"/i/{token}")
    refused = client.post(f"/i/{token}", data=hidden_values(page.get_data(as_text=True)))
    assert refused.status_code == 422
    assert "Please tick the box to agree" in refused.get_data(as_text=True)
    forged = client.post(f"/i/{token}", data={"consent": "y"})  # no CSRF token, no consent id
    assert forged.status_code == 422
    assert count_rows(Response) == 0
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).response_id is None
    q = questionnaire()
    q.state = type(q.state).CLOSED
    db.session.commit()
    closed = client.get(f"/i/{token}")
    assert closed.status_code == 410 and "not open for answers" in closed.get_data(as_text=True)


def test_purging_an_old_draft_frees_the_link_for_a_new_start(app, client):
    from surveyapp.responses.retention import purge

    invitation, token = make_invitation()
    start_with_link(client, token)
    old = utcnow() - timedelta(days=400)
    db.session.execute(sa.update(Response).values(updated_at=old, started_at=old))
    db.session.commit()
    purge()
    db.session.commit()
    db.session.expire_all()
    assert count_rows(Response) == 0
    assert db.session.get(Invitation, invitation.id).response_id is None
    assert app.test_client().get(f"/i/{token}").status_code == 200


def test_upload_problems_name_the_field(app, staff_client):
    token = csrf_token(staff_client.get(BASE).get_data(as_text=True))
    no_file = staff_client.post(BASE + "/upload", data={"csrf_token": token, "valid_days": "60"})
    assert no_file.status_code == 422 and 'href="#file">Please choose a CSV file' in \
        no_file.get_data(as_text=True)
    bad_days = staff_client.post(BASE + "/upload", data={
        "csrf_token": token, "valid_days": "0", "file": (io.BytesIO(german_list()), "a.csv")},
        content_type="multipart/form-data")
    assert bad_days.status_code == 422 and 'href="#valid_days"' in bad_days.get_data(as_text=True)
    stale = staff_client.post(BASE + "/upload", data={
        "csrf_token": "stale", "valid_days": "60", "file": (io.BytesIO(german_list()), "a.csv")},
        content_type="multipart/form-data")
    assert stale.status_code in (400, 422)
    assert count_rows(Contact) == 0


def test_a_large_list_with_one_bad_row_can_still_be_imported_in_the_second_step(app,
                                                                                staff_client):
    lines = ["name;email;phone;unit;language"]
    lines += [f"Person number {i} with a longer name;person{i}@example.org;;koeln;de"
              for i in range(4000)]
    lines.append("Broken;broken;;;")
    content = ("\n".join(lines) + "\n").encode("utf-8")
    assert len(content) > 250_000
    report = upload(staff_client, content)
    assert report.status_code == 422
    values = hidden_values(report.get_data(as_text=True).split("invitation-report")[1])
    assert len(values["contents"]) < len(content) / 3
    assert staff_client.post(BASE + "/import-valid", data=values).status_code == 302
    assert count_rows(Contact) == 4000


def test_purge_erases_contacts_older_than_the_retention_period(app, runner):
    from surveyapp.responses.retention import purge

    old, _token = make_invitation(email="old@example.org")
    new, _token = make_invitation(email="new@example.org")
    old_ids, new_contact_id = (old.contact_id, old.id), new.contact_id
    q = questionnaire()
    db.session.get(Contact, old_ids[0]).created_at = utcnow() - timedelta(
        days=q.retention_days + 1)
    db.session.commit()
    assert purge().contacts == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Contact, old_ids[0]) is None
    assert db.session.get(Invitation, old_ids[1]) is None  # its link goes with it
    assert db.session.get(Contact, new_contact_id) is not None
    assert purge().contacts == 0  # again, from cron: nothing more
    result = runner.invoke(args=["purge", "--dry-run"])
    assert "0 expired contacts" in result.output
