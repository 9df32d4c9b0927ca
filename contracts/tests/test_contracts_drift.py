"""The checked-in JSON Schemas and AsyncAPI document are exactly what the models export."""

from __future__ import annotations

import yaml
from ykt_contracts import EVENTS, export


def test_json_schemas_on_disk_equal_the_models() -> None:
    expected = export.schema_files()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in export.SCHEMA_DIR.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "run `make contracts` and commit the result"
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name} drifted from its model: run `make contracts`"


def test_asyncapi_document_on_disk_equals_the_catalogue() -> None:
    assert export.ASYNCAPI_PATH.read_text(encoding="utf-8") == export.asyncapi_text(), "run `make contracts`"


def test_asyncapi_lists_every_topic_with_its_producer_and_consumers() -> None:
    doc = yaml.safe_load(export.ASYNCAPI_PATH.read_text(encoding="utf-8"))
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    ops = doc["operations"]
    for spec in EVENTS.values():
        assert spec.topic in addresses
        senders = {
            o["x-service"]
            for o in ops.values()
            if o["action"] == "send" and o["channel"]["$ref"].endswith(spec.type.replace(".", "_"))
        }
        receivers = {
            o["x-service"]
            for o in ops.values()
            if o["action"] == "receive" and o["channel"]["$ref"].endswith(spec.type.replace(".", "_"))
        }
        assert senders == {spec.producer}
        assert receivers == set(spec.consumers)
    assert "ykt.dead-letter" in addresses


def test_a_changed_model_is_detected(monkeypatch: object) -> None:
    """The drift check is not vacuous: a different export compares unequal."""
    original = export.schema_files()
    tampered = dict(original)
    name = next(iter(tampered))
    tampered[name] = tampered[name].replace('"batch_id"', '"batch_ident"', 1)
    assert tampered != original
