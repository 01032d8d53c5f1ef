"""YAML with CloudFormation's short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`, ...), read as their long form.

ruamel.yaml is the YAML library mitmproxy itself uses; the tags get their own constructor class so that
mitmproxy's loader is untouched. Dates and timestamps stay strings, as CloudFormation reads them.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .model import DefinitionError

_FUNCTIONS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "Length",
    "ToJsonString",
)


class _CfnConstructor(SafeConstructor):
    pass


def _value(constructor: SafeConstructor, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return constructor.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return constructor.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return constructor.construct_mapping(node, deep=True)
    return None


def _function(name: str) -> Any:
    def construct(constructor: SafeConstructor, node: Node) -> Any:
        return {name: _value(constructor, node)}

    return construct


def _get_att(constructor: SafeConstructor, node: Node) -> Any:
    value = _value(constructor, node)
    if isinstance(value, str):  # !GetAtt Resource.Attribute
        value = value.split(".", 1)
    return {"Fn::GetAtt": value}


def _plain_timestamp(constructor: SafeConstructor, node: Node) -> Any:
    return constructor.construct_scalar(node)


_CfnConstructor.add_constructor("!Ref", _function("Ref"))
_CfnConstructor.add_constructor("!Condition", _function("Condition"))
_CfnConstructor.add_constructor("!GetAtt", _get_att)
for _name in _FUNCTIONS:
    _CfnConstructor.add_constructor(f"!{_name}", _function(f"Fn::{_name}"))
_CfnConstructor.add_constructor("tag:yaml.org,2002:timestamp", _plain_timestamp)


def load_yaml(text: str, origin: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _CfnConstructor
    try:
        return yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = (e.problem or e.context or "not YAML").strip()
        raise DefinitionError(f"{origin}: {where}: {problem}") from None
    except YAMLError as e:
        raise DefinitionError(f"{origin}: not YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
