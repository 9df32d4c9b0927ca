"""Export the JSON Schemas and the AsyncAPI 3 document; `python -m ykt_contracts.export` rewrites
the checked-in copies, and the drift test compares them with these functions' output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .envelope import Envelope
from .topics import DEAD_LETTER_TOPIC, EVENTS, PARTITIONS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas"
ASYNCAPI_PATH = ROOT / "asyncapi.yaml"


def event_schema(type_: str) -> dict[str, Any]:
    """JSON Schema of the envelope with the typed payload of `type_`."""
    spec = EVENTS[type_]
    schema = Envelope.model_json_schema()
    payload = spec.model.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**schema.pop("$defs", {}), **payload.pop("$defs", {})}
    defs[spec.model.__name__] = payload
    schema["properties"]["payload"] = {"$ref": f"#/$defs/{spec.model.__name__}"}
    schema["properties"]["type"] = {"const": spec.type, "title": "Type", "type": "string"}
    schema["properties"]["version"] = {"const": spec.version, "title": "Version", "type": "integer"}
    schema["$defs"] = dict(sorted(defs.items()))
    schema["$id"] = f"urn:ykt:event:{spec.type}:v{spec.version}"
    schema["title"] = f"{spec.type} v{spec.version}"
    return schema


def schema_files() -> dict[str, str]:
    """File name → content of every JSON Schema."""
    out = {}
    for type_, spec in EVENTS.items():
        text = json.dumps(event_schema(type_), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        out[f"{type_}.v{spec.version}.json"] = text
    return out


def asyncapi() -> dict[str, Any]:
    """AsyncAPI 3.0 document: every topic, its message, its producer and its consumers."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for type_, spec in EVENTS.items():
        cname = type_.replace(".", "_")
        mname = spec.model.__name__
        messages[mname] = {
            "name": type_,
            "title": f"{type_} v{spec.version}",
            "summary": spec.summary,
            "contentType": "application/json",
            "payload": {"$ref": f"./schemas/{type_}.v{spec.version}.json"},
        }
        channels[cname] = {
            "address": spec.topic,
            "description": spec.summary,
            "messages": {mname: {"$ref": f"#/components/messages/{mname}"}},
            "bindings": {"kafka": {"topic": spec.topic, "partitions": PARTITIONS}},
        }
        operations[f"{spec.producer}_sends_{cname}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cname}"},
            "summary": f"{spec.producer} publishes {type_}",
            "x-service": spec.producer,
        }
        for consumer in spec.consumers:
            operations[f"{consumer}_receives_{cname}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cname}"},
                "summary": f"{consumer} consumes {type_}",
                "x-service": consumer,
            }
    channels["dead_letter"] = {
        "address": DEAD_LETTER_TOPIC,
        "description": "Messages that can never be processed, with the reason in headers.",
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "惠民惠农财政补贴资金“一卡通”发放管理信息系统 events",
            "version": "1.0.0",
            "description": "Every topic of the platform, its message, producer and consumers.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {"host": "kafka:9092", "protocol": "kafka", "description": "Apache Kafka (KRaft)"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def asyncapi_text() -> str:
    return yaml.safe_dump(asyncapi(), allow_unicode=True, sort_keys=False, width=100)


def write() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for old in SCHEMA_DIR.glob("*.json"):
        old.unlink()
    for name, text in schema_files().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
    ASYNCAPI_PATH.write_text(asyncapi_text(), encoding="utf-8")


if __name__ == "__main__":
    write()
