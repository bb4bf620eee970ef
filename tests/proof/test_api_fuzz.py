"""schemathesis against the OpenAPI schema for each role (HQ admin, region manager, store manager, guide, auditor):
no 5xx, every returned status documented; and the IDOR matrix: every object of another store, region or enterprise
is 404 to read and to write. The bigger pass runs in bench (bench/store_day.py fuzz)."""
import json
import os

import pytest
from django.db import connection
from django.test import Client

from yundian.ops.backup import table_digests
from yundian.org.tests.utils import client_for

from .fuzz import (ENTERPRISE_WIDE, ID_PATHS, ID_WRITES, NOT_IN_MATRIX, OUT_OF_SCOPE, PAGE_ENTERPRISE_WIDE,
                   PAGE_READS, PAGE_WRITES, ROLES, bearer_for, fuzz, openapi_schema)
from .world import make_world

# x 2 modes (valid and invalid data) x 5 roles = 400 requests per database; bench/store_day.py fuzz raises it
EXAMPLES_PER_MODE = int(os.environ.get("PROOF_FUZZ_EXAMPLES", "40"))


@pytest.fixture
def worlds(db):
    return make_world(), make_world("zeta")


def schema() -> tuple[dict, list[str]]:
    return openapi_schema(Client(raise_request_exception=False))


def test_the_openapi_schema_is_served(db):
    response = Client(raise_request_exception=False).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"]


def test_the_schema_covers_the_api(db):
    raw, left_out = schema()
    assert len(raw["paths"]) > 100
    assert left_out == []


@pytest.mark.parametrize("role", list(ROLES))
def test_fuzzing_as_each_role_finds_no_server_error_and_no_undocumented_status(worlds, role):
    world, _other = worlds
    raw, _left_out = schema()
    token = bearer_for(getattr(world.chain, ROLES[role]))
    result = fuzz(raw, token, max_examples=EXAMPLES_PER_MODE, seed=0 if EXAMPLES_PER_MODE <= 40 else None)
    print("FUZZ " + json.dumps({"role": role, "requests": result.requests, "statuses": result.statuses,
                                "server_errors": len(result.server_errors), "undocumented": len(result.undocumented),
                                "known_server_errors": len(result.known_server_errors),
                                "first_5xx": (result.server_errors + result.known_server_errors)[:3]}))
    assert result.requests >= EXAMPLES_PER_MODE  # hypothesis may skip a few duplicates
    assert not result.server_errors, "\n".join(result.server_errors)
    assert not result.undocumented, "\n".join(result.undocumented)


def test_every_get_by_id_endpoint_is_in_the_idor_matrix(db):
    raw, _left_out = schema()
    by_id = {path for path, ops in raw["paths"].items() if "get" in ops and "{" in path}
    assert by_id == set(ID_PATHS) | set(NOT_IN_MATRIX), sorted(by_id ^ (set(ID_PATHS) | set(NOT_IN_MATRIX)))


def _ids(world, other, kind: str) -> dict[str, int]:
    return {"a": world.ids[kind]["a"], "b": world.ids[kind]["b"], "x": other.ids[kind]["a"]}


@pytest.mark.parametrize("role", list(ROLES))
def test_idor_matrix_reads_outside_the_scope_are_404(worlds, role):
    world, other = worlds
    client = client_for(getattr(world.chain, ROLES[role]))
    leaks = []
    for path, kind in ID_PATHS.items():
        ids = _ids(world, other, kind)
        hidden = ("x",) if kind in ENTERPRISE_WIDE else OUT_OF_SCOPE[role]
        for where in hidden:
            url = path.split("{")[0] + str(ids[where]) + path.split("}", 1)[1]
            response = client.get(url)
            if response.status_code != 404:
                leaks.append(f"{role} GET {url} ({kind} of {where}): {response.status_code} {response.content[:120]!r}")
    assert not leaks, "\n".join(leaks)


def test_idor_matrix_the_ids_are_real_for_hq(worlds):
    """The control: HQ reads store A's and store B's objects, so the 404s above are about scope, not bad ids."""
    world, other = worlds
    client = client_for(world.chain.admin)
    for path, kind in ID_PATHS.items():
        for where in ("a", "b"):
            url = path.split("{")[0] + str(_ids(world, other, kind)[where]) + path.split("}", 1)[1]
            assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", list(ROLES))
def test_idor_matrix_writes_outside_the_scope_are_404_and_change_nothing(worlds, role):
    world, other = worlds
    client = client_for(getattr(world.chain, ROLES[role]))
    before = table_digests(connection)
    leaks = []
    for method, path, body, kind in ID_WRITES:
        ids = _ids(world, other, kind)
        for where in OUT_OF_SCOPE[role]:
            url = path.format(ids[where])
            response = getattr(client, method.lower())(url, data=body, content_type="application/json")
            if response.status_code != 404:
                leaks.append(f"{role} {method} {url} ({kind} of {where}): {response.status_code} "
                             f"{response.content[:120]!r}")
    after = table_digests(connection)
    after.pop("django_session", None), before.pop("django_session", None)
    changed = sorted(t for t in before if before[t] != after.get(t))
    assert not leaks, "\n".join(leaks)
    assert not changed, changed


def _page_url(path: str, world, object_id: int) -> str:
    return path.replace("{store_a}", str(world.chain.store_a.id)).replace(
        "{member_a}", str(world.member_a.id)).replace("{}", str(object_id))


@pytest.mark.parametrize("role", list(ROLES))
def test_idor_matrix_console_pages_outside_the_scope_are_refused(worlds, role):
    """The journeys' and recommendations' pages by id: another store's, region's or enterprise's object is 403 or
    404 to read and to act on, and acting changes nothing."""
    world, other = worlds
    client = client_for(getattr(world.chain, ROLES[role]))
    leaks = []
    for path, kind in PAGE_READS.items():
        for where in OUT_OF_SCOPE[role]:
            url = _page_url(path, world, _ids(world, other, kind)[where])
            response = client.get(url)
            if response.status_code not in (403, 404):
                leaks.append(f"{role} GET {url} ({kind} of {where}): {response.status_code}")
    before = table_digests(connection)
    for path, body, kind in PAGE_WRITES:
        hidden = ("x",) if kind in PAGE_ENTERPRISE_WIDE else OUT_OF_SCOPE[role]
        for where in hidden:
            url = _page_url(path, world, _ids(world, other, kind)[where])
            response = (client.post(url, data=json.dumps(body), content_type="application/json") if body is not None
                        else client.post(url))
            if response.status_code not in (403, 404):
                leaks.append(f"{role} POST {url} ({kind} of {where}): {response.status_code} "
                             f"{response.content[:120]!r}")
    after = table_digests(connection)
    after.pop("django_session", None), before.pop("django_session", None)
    assert not leaks, "\n".join(leaks)
    assert sorted(t for t in before if before[t] != after.get(t)) == []


def test_idor_matrix_console_pages_the_ids_are_real_for_hq(worlds):
    """The control: HQ opens store A's and store B's journeys and members' boxes."""
    world, other = worlds
    client = client_for(world.chain.admin)
    for path, kind in PAGE_READS.items():
        for where in ("a", "b"):
            url = _page_url(path, world, _ids(world, other, kind)[where])
            assert client.get(url).status_code == 200, url
