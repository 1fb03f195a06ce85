"""docs/api.md keeps in step with the API the app serves: every operation of
the OpenAPI document is listed there as "`METHOD /api/v1/path`" (path
parameters written ``{name}``, as OpenAPI writes them), and every endpoint
listed there, outside its "Planned" section, is served."""

from __future__ import annotations

import re
from pathlib import Path

API_MD = Path(__file__).resolve().parent.parent / "docs" / "api.md"
METHODS = ("get", "post", "put", "patch", "delete")
# "`GET /api/v1/meetings`", also "`GET /api/v1/meetings?community_id=`".
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`?\s]*)(?:\?[^`]*)?`")


def _served(client) -> set[tuple[str, str]]:
    document = client.get("/api/v1/openapi.json").get_json()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }


def _documented_text() -> str:
    """docs/api.md without its "Planned" section (from its "## Planned"
    heading to the next second-level heading)."""
    kept, planned = [], False
    for line in API_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            planned = line.lower().startswith("## planned")
        if not planned:
            kept.append(line)
    return "\n".join(kept)


def test_every_served_endpoint_is_documented(client):
    served = _served(client)
    assert len(served) > 40  # the document was read, not an empty one
    text = _documented_text()
    missing = sorted(
        f"{method} {path}" for method, path in served if f"`{method} {path}`" not in text
    )
    assert not missing, f"served but not in docs/api.md: {missing}"


def test_every_documented_endpoint_is_served(client):
    served = _served(client)
    documented = set(ENDPOINT.findall(_documented_text()))
    assert documented, "no endpoint found in docs/api.md"
    unknown = sorted(f"{method} {path}" for method, path in documented - served)
    assert not unknown, f"in docs/api.md but not served (move it under Planned?): {unknown}"


def test_docs_do_not_point_outside_the_project():
    text = API_MD.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert "## Planned" in text  # the section the check above leaves out
