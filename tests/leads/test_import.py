import codecs

import pytest
from django.db import IntegrityError

from leads import importing
from leads.importing import LeadImportError, Mapping, Outcome, import_csv, open_csv, preview_csv
from leads.models import DoNotContact, Lead
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

HEADER = "LinkedIn URL,First Name,Last Name,Company,Title,Email,City\n"


def write(tmp_path, text, encoding="utf-8", name="leads.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def mapping_for(source):
    guessed = importing.guess_mapping(source.headers)
    return Mapping(fields=guessed, custom=[h for h in source.headers if h not in guessed.values()])


def run(campaign, path, *, confirm=False):
    source = open_csv(path)
    mapping = mapping_for(source)
    if confirm:
        return import_csv(campaign, source, mapping, keep_rows=100)
    return preview_csv(campaign, source, mapping)


def test_guess_mapping_recognises_common_headers(tmp_path):
    source = open_csv(write(tmp_path, HEADER))
    assert importing.guess_mapping(source.headers) == {
        "linkedin": "LinkedIn URL",
        "first_name": "First Name",
        "last_name": "Last Name",
        "company": "Company",
        "title": "Title",
        "email": "Email",
    }


def test_good_rows_import_with_custom_fields(campaign, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "https://www.linkedin.com/in/ann-lee/,Ann,Lee,Acme,CTO,ann@acme.com,Paris\n"
        + "https://uk.linkedin.com/in/bob-ray?trk=x,Bob,Ray,Globex,VP,,\n",
    )
    summary = run(campaign, path, confirm=True)
    assert summary.created == 2 and summary.counts[Outcome.NEW] == 2
    ann = Lead.objects.get(campaign=campaign, public_identifier="ann-lee")
    assert (ann.first_name, ann.company, ann.email, ann.custom_fields) == (
        "Ann",
        "Acme",
        "ann@acme.com",
        {"City": "Paris"},
    )
    bob = Lead.objects.get(campaign=campaign, public_identifier="bob-ray")
    assert bob.custom_fields == {} and bob.status == "pending"


def test_preview_writes_nothing_and_says_what_would_happen_per_row(campaign, tmp_path):
    other = CampaignFactory(client=campaign.client, name="Spring push")
    LeadFactory(campaign=other, public_identifier="taken", status="invited")
    LeadFactory(campaign=campaign, public_identifier="already")
    DoNotContact.objects.create(client=campaign.client, kind="email", value="no@acme.com")
    DoNotContact.objects.create(client=None, kind="domain", value="competitor.com")
    path = write(
        tmp_path,
        HEADER
        + "https://www.linkedin.com/in/new-person/,New,Person,Acme,CTO,,\n"  # line 2
        + "https://www.linkedin.com/in/New-Person,Dup,InFile,,,,\n"  # 3: same person again
        + "https://www.linkedin.com/in/already/,Al,Ready,,,,\n"  # 4
        + "https://www.linkedin.com/in/blocked/,No,Thanks,,,no@acme.com,\n"  # 5
        + "https://www.linkedin.com/in/rival/,Ri,Val,,,x@competitor.com,\n"  # 6
        + "https://www.linkedin.com/in/taken/,Ta,Ken,,,,\n"  # 7
        + "https://www.linkedin.com/company/acme/,Co,Mpany,,,,\n"  # 8
        + ",Nourl,Here,,,,\n"  # 9
        + "https://www.linkedin.com/in/bad-email/,Bad,Email,,,not-an-email,\n"  # 10
        + "\n",  # blank lines are skipped
    )
    summary = run(campaign, path)
    outcomes = {row.line: (row.outcome, row.reason) for row in summary.rows}
    assert outcomes[2][0] == Outcome.NEW
    assert outcomes[3][0] == Outcome.DUPLICATE_IN_FILE
    assert outcomes[4][0] == Outcome.DUPLICATE
    assert outcomes[5] == (Outcome.DO_NOT_CONTACT, "On the do-not-contact list (email no@acme.com).")
    assert outcomes[6] == (Outcome.DO_NOT_CONTACT, "On the do-not-contact list (domain competitor.com).")
    assert outcomes[7] == (Outcome.OTHER_CAMPAIGN, "Already invited in campaign 'Spring push'.")
    assert outcomes[8][0] == Outcome.INVALID and "/company/" in outcomes[8][1]
    assert outcomes[9] == (Outcome.INVALID, "No LinkedIn URL or identifier.")
    assert outcomes[10][0] == Outcome.INVALID and "not-an-email" in outcomes[10][1]
    assert summary.total == 9
    assert Lead.objects.filter(campaign=campaign).count() == 1  # only "already"; preview wrote nothing

    imported = run(campaign, path, confirm=True)
    assert imported.created == 1
    assert set(Lead.objects.filter(campaign=campaign).values_list("public_identifier", flat=True)) == {
        "already",
        "new-person",
    }


def test_finished_leads_elsewhere_do_not_block(campaign, tmp_path):
    LeadFactory(campaign=CampaignFactory(client=campaign.client), public_identifier="done", status="completed")
    LeadFactory(campaign=CampaignFactory(), public_identifier="other-client", status="invited")
    path = write(tmp_path, "linkedin\ndone\nother-client\n")
    assert run(campaign, path, confirm=True).created == 2


def test_a_failure_midway_leaves_nothing_imported(campaign, tmp_path, monkeypatch):
    rows = "".join(f"https://www.linkedin.com/in/person-{i}/,P,{i},,,,\n" for i in range(2500))
    path = write(tmp_path, HEADER + rows)
    original = Lead.objects.bulk_create
    calls = []

    def failing_bulk_create(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 2:
            raise IntegrityError("simulated failure in the second batch")
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(Lead.objects, "bulk_create", failing_bulk_create)
    with pytest.raises(IntegrityError):
        run(campaign, path, confirm=True)
    assert calls[0] == importing.BATCH_SIZE
    assert Lead.objects.filter(campaign=campaign).count() == 0


def test_a_file_that_breaks_midway_imports_nothing(campaign, tmp_path):
    good = "".join(f"https://www.linkedin.com/in/person-{i}/,P,{i},,,,\n" for i in range(1500))
    path = write(tmp_path, (HEADER + good).encode() + b"https://www.linkedin.com/in/bad-\xff\xfe/,X,Y,,,,\n")
    with pytest.raises(LeadImportError, match="nothing was imported"):
        run(campaign, path, confirm=True)
    assert Lead.objects.filter(campaign=campaign).count() == 0


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("latin-1", b""), ("utf-16", b""), ("cp1252", b"")],
)
def test_encodings(campaign, tmp_path, encoding, prefix):
    text = "linkedin;first name;company\nhttps://www.linkedin.com/in/jose-garcia/;José;Café Müller\n"
    path = write(tmp_path, prefix + text.encode(encoding))
    summary = run(campaign, path, confirm=True)
    assert summary.created == 1
    lead = Lead.objects.get(campaign=campaign)
    assert (lead.first_name, lead.company) == ("José", "Café Müller")


def test_tab_separated_and_quoted_fields(campaign, tmp_path):
    path = write(tmp_path, 'linkedin\tfirst name\tcompany\nann-lee\tAnn\t"Acme, Inc.\tGlobal"\n')
    run(campaign, path, confirm=True)
    assert Lead.objects.get(campaign=campaign).company == "Acme, Inc.\tGlobal"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"a,b,a\n1,2,3\n", "repeated: a"),
        (b"\x00\x01\x02binary", "binary"),
    ],
)
def test_files_that_cannot_be_imported(tmp_path, content, message):
    with pytest.raises(LeadImportError, match=message):
        open_csv(write(tmp_path, content))


def test_mapping_requires_a_linkedin_column():
    with pytest.raises(LeadImportError, match="LinkedIn URL or identifier"):
        Mapping(fields={"first_name": "First"}, custom=[])


def test_over_long_values_are_invalid_rows(campaign, tmp_path):
    path = write(tmp_path, "linkedin,first name\nann-lee," + "A" * 101 + "\n")
    summary = run(campaign, path)
    assert summary.rows[0].outcome == Outcome.INVALID and "longer than 100" in summary.rows[0].reason


def test_leads_added_to_an_active_campaign_are_due(campaign, tmp_path):
    from campaigns.services import campaign_activate

    campaign_activate(campaign=campaign)
    run(campaign, write(tmp_path, "linkedin,first name\nann-lee,Ann\n"), confirm=True)
    assert Lead.objects.get(campaign=campaign).next_action_at is not None
