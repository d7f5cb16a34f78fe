"""Input the schema calls invalid is refused (400), where DRF or django-filter took it."""

import pytest
from django.utils import timezone

from subsidy.models import Application, SiteVisit
from subsidy.workflow.transitions import CHECKLIST_ITEMS
from tests.subsidy.test_api_permissions import in_state
from tests.utils import client_for


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email",
    ["0@0.a", "a@localhost", " ani@contoh.id", "ani@contoh.id\n", f"{'a' * 65}@contoh.id"],
)
def test_register_refuses_an_address_outside_the_schemas_shape(email):
    response = client_for(None).post(
        "/api/v1/auth/register/",
        {"username": "ani", "email": email, "password": "Mesin-Bubut-7291"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email"}


@pytest.mark.django_db
def test_register_takes_an_address_of_the_schemas_shape():
    response = client_for(None).post(
        "/api/v1/auth/register/",
        {"username": "ani", "email": "ani.s+ikm@contoh.co.id", "password": "Mesin-Bubut-7291"},
        format="json",
    )

    assert response.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["has_signals=yes", "has_findings=1", "kbli_division=", "kbli_division=2"]
)
def test_application_filters_refuse_what_the_schema_refuses(verifier, query):
    response = client_for(verifier).get(f"/api/v1/applications/?{query}")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {query.split("=")[0]}


@pytest.mark.django_db
def test_application_filters_take_true_false_and_two_digits(verifier):
    client = client_for(verifier)

    for query in ("has_signals=true", "has_findings=false", "kbli_division=25"):
        assert client.get(f"/api/v1/applications/?{query}").status_code == 200


@pytest.mark.django_db
def test_a_site_visit_form_missing_an_answer_is_refused_not_read_as_false(company, verifier):
    visiting = in_state(company, Application.Status.FIELD_VERIFICATION)
    form = {"visited_on": timezone.localdate().isoformat(), "place": "Klaten"}
    form |= dict.fromkeys(CHECKLIST_ITEMS[:-1], "true")

    response = client_for(verifier).post(
        f"/api/v1/applications/{visiting.pk}/site-visits/", form, format="multipart"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"not_transferred"}
    assert not SiteVisit.objects.exists()


@pytest.mark.django_db
def test_a_site_visit_in_json_takes_booleans_only(company, verifier):
    visiting = in_state(company, Application.Status.FIELD_VERIFICATION)
    payload = {"visited_on": timezone.localdate().isoformat(), "place": "Klaten"}
    payload |= dict.fromkeys(CHECKLIST_ITEMS, True) | {"machines_new": "true"}

    response = client_for(verifier).post(
        f"/api/v1/applications/{visiting.pk}/site-visits/", payload, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"machines_new"}
