"""CSV import under random encodings, delimiters, quoting and garbage: a clear error or a correct import,
never a crash and never a half import."""

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads import importing
from leads.models import Lead
from tests import factories

names = st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc", "Cs"]), min_size=0, max_size=20)
slugs = st.from_regex(r"[a-z][a-z0-9-]{2,20}", fullmatch=True)
rows = st.lists(st.tuples(slugs, names, names), min_size=0, max_size=25)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"])
delimiters = st.sampled_from([",", ";", "\t", "|"])
quoting = st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])


@pytest.fixture
def campaign(db):
    return factories.CampaignFactory()


def _import(campaign, path):
    source = importing.open_csv(path)
    fields = importing.guess_mapping(source.headers)
    mapping = importing.Mapping(fields=fields, custom=[h for h in source.headers if h not in fields.values()])
    return importing.import_csv(campaign, source, mapping)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=rows, encoding=encodings, delimiter=delimiters, quote=quoting)
def test_well_formed_files_import_exactly(campaign, tmp_path, data, encoding, delimiter, quote):
    Lead.objects.filter(campaign=campaign).delete()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quote)
    writer.writerow(["LinkedIn", "First name", "Company"])
    writer.writerows(data)
    path = tmp_path / "leads.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    try:
        summary = _import(campaign, path)
    except importing.LeadImportError as exc:
        assert str(exc)  # a clear message, nothing stored
        assert not Lead.objects.filter(campaign=campaign).exists()
        return
    unique = len({slug for slug, _f, _c in data})
    assert summary.total == len([r for r in data if any(v.strip() for v in r)])
    assert summary.created == unique == Lead.objects.filter(campaign=campaign).count()
    stored = {lead.public_identifier: lead.first_name for lead in Lead.objects.filter(campaign=campaign)}
    first_seen = {}
    for slug, first, _company in data:
        first_seen.setdefault(slug, first.strip())
    assert stored == first_seen


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(blob=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "replace"))))
def test_garbage_is_a_clear_error_or_a_whole_import(campaign, tmp_path, blob):
    Lead.objects.filter(campaign=campaign).delete()
    path = tmp_path / "garbage.csv"
    path.write_bytes(blob)
    try:
        summary = _import(campaign, path)
    except importing.LeadImportError as exc:
        assert str(exc)
        assert not Lead.objects.filter(campaign=campaign).exists()
        return
    assert summary.created == Lead.objects.filter(campaign=campaign).count()


def test_empty_file_and_header_only(campaign, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(importing.LeadImportError, match="empty"):
        _import(campaign, empty)
    header = tmp_path / "header.csv"
    header.write_bytes(b"linkedin,first name\n")
    assert _import(campaign, header).created == 0
