"""POST /campaigns/{id}/leads/import: JSON or CSV, per-row results as in the admin preview, all or nothing."""

import pytest

from leads import importing
from leads.models import Lead

CSV = (
    "LinkedIn URL,First Name,Company,City\n"
    "https://www.linkedin.com/in/new-one/,New,One Co,Paris\n"
    "https://www.linkedin.com/in/new-one/,Again,One Co,Paris\n"
    "not a profile !,Bad,X,\n"
    "https://www.linkedin.com/in/{existing}/,Ada,Acme,\n"
    "someone@acme.example,,,\n"
)


def _path(world, dry_run=False):
    return f"/api/v1/campaigns/{world['a'].campaign.pk}/leads/import" + ("?dry_run=true" if dry_run else "")


def test_json_import_reports_every_row_and_creates_the_new_ones(world, api):
    payload = [
        {
            "linkedin": "https://www.linkedin.com/in/grace-hopper/",
            "first_name": "Grace",
            "custom_fields": {"city": "NY"},
        },
        {"linkedin": "grace-hopper"},
        {"linkedin": world["a"].lead.public_identifier},
        {"linkedin": "x", "surname": "Nope"},
        "not an object",
        {"linkedin": 42},
        {"linkedin": "valid-person", "email": "no@acme.example"},
    ]
    response = api("agent").post(_path(world), payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["dry_run"] is False and body["total"] == 7 and body["created"] == 1
    outcomes = [(row["line"], row["outcome"]) for row in body["rows"]]
    assert outcomes == [
        (1, "new"),
        (2, "duplicate_in_file"),
        (3, "duplicate"),
        (4, "invalid"),
        (5, "invalid"),
        (6, "invalid"),
        (7, "do_not_contact"),
    ]
    assert "surname" in body["rows"][3]["reason"]
    lead = Lead.objects.get(campaign=world["a"].campaign, public_identifier="grace-hopper")
    assert lead.custom_fields == {"city": "NY"}


def test_dry_run_stores_nothing(world, api):
    before = Lead.objects.count()
    body = api("agent").post(_path(world, dry_run=True), [{"linkedin": "fresh-face"}], format="json").json()
    assert body["dry_run"] is True and body["counts"]["new"] == 1 and body["created"] == 0
    assert Lead.objects.count() == before


def test_csv_body_matches_the_admin_preview(world, api, tmp_path):
    text = CSV.format(existing=world["a"].lead.public_identifier)
    response = api("agent").generic("POST", _path(world, dry_run=True), text.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content
    api_rows = [(r["line"], r["outcome"], r["reason"]) for r in response.json()["rows"]]

    path = tmp_path / "leads.csv"
    path.write_text(text)
    source = importing.open_csv(path)
    fields = importing.guess_mapping(source.headers)
    mapping = importing.Mapping(fields=fields, custom=[h for h in source.headers if h not in fields.values()])
    preview = importing.preview_csv(world["a"].campaign, source, mapping)
    assert api_rows == [(r.line, r.outcome, r.reason) for r in preview.rows]
    assert [o for _l, o, _r in api_rows] == ["new", "duplicate_in_file", "invalid", "duplicate", "invalid"]


def test_multipart_upload_imports_with_custom_fields(world, api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("leads.csv", b"linkedin,first name,City\nada-byron,Ada,London\n", "text/csv")
    response = api("agent").post(_path(world), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(public_identifier="ada-byron")
    assert lead.first_name == "Ada" and lead.custom_fields == {"City": "London"}


def test_csv_without_a_linkedin_column_is_a_400(world, api):
    response = api("agent").generic("POST", _path(world), b"name,company\nAda,Acme\n", content_type="text/csv")
    assert response.status_code == 400
    assert "LinkedIn" in response.json()["message"]


def test_more_than_the_limit_is_refused_whole(world, api, settings):
    settings.API_IMPORT_MAX_ROWS = 3
    payload = [{"linkedin": f"person-x{i}"} for i in range(4)]
    response = api("agent").post(_path(world), payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert not Lead.objects.filter(public_identifier__startswith="person-x").exists()


def test_a_failure_midway_leaves_nothing_half_imported(world, api, monkeypatch):
    calls = {"n": 0}
    real = Lead.objects.bulk_create

    def flaky(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    monkeypatch.setattr(Lead.objects, "bulk_create", flaky)
    payload = [{"linkedin": f"half-{i}"} for i in range(5)]
    response = api("agent").post(_path(world), payload, format="json")
    assert response.status_code == 500
    assert not Lead.objects.filter(public_identifier__startswith="half-").exists()


def test_archived_campaign_refuses_imports(world, api):
    campaign = world["a"].campaign
    campaign.status = "archived"
    campaign.save()
    response = api("agent").post(_path(world), [{"linkedin": "late-comer"}], format="json")
    assert response.status_code == 409 and response.json()["code"] == "invalid_state_transition"


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_dry_run_flag(world, api, value):
    response = api("agent").post(_path(world) + f"?dry_run={value}", [], format="json")
    assert response.status_code == 400 and "dry_run" in response.json()["details"]


def test_export_streams_csv_with_neutralized_cells(world, api):
    lead = world["a"].lead
    lead.company = "=HYPERLINK(1)"
    lead.save()
    response = api("viewer").get(f"/api/v1/campaigns/{world['a'].campaign.pk}/leads/export", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in text and text.count("\n") == 3
