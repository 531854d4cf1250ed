"""Glue between the `tf` provider framework and the stand-in providers.

A real provider reports a failed API call as an error diagnostic and leaves the state as it was;
these base classes give every stand-in resource that behaviour, so a test sees the same
`Error: ...` terraform prints for the real provider, never a Python traceback through gRPC.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from tf import runner
from tf.blocks import SetNestedBlock
from tf.gen import tfplugin_pb2 as pb
from tf.iface import (
    CreateContext,
    DataSource,
    DeleteContext,
    Provider,
    ReadContext,
    ReadDataContext,
    Resource,
    UpdateContext,
)
from tf.schema import Attribute, Block, Schema
from tf.types import TfType, Unknown

log = logging.getLogger("standin")

State = dict[str, Any]
T = TypeVar("T")


class ApiError(Exception):
    """A failed cloud call, worded the way the real provider words it (one error diagnostic)."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail


def known(value: Any) -> bool:
    """True when nothing in `value` (a plan value, possibly nested) is still unknown."""
    if value is Unknown:
        return False
    if isinstance(value, list):
        return all(known(v) for v in value)
    if isinstance(value, dict):
        return all(known(v) for v in value.values())
    return True


def items(value: Any) -> list[Any]:
    """The elements of a list/set value; none while it is null or still unknown as a whole."""
    return value if isinstance(value, list) else []


def null_if_unset(current: Any, new: Any) -> Any:
    """The API's empty value where terraform has null, kept as null.

    SDKv2 providers (DigitalOcean, Linode, AWS) treat null, "", false and empty collections alike,
    so refreshing an unset optional argument never shows a diff there; this keeps that property.
    """
    if current is None and new in ("", False, [], {}):
        return None
    return new


class Object(TfType):
    """An object type (`["object", {...}]`), e.g. the elements of a computed list of records;
    the framework itself has none."""

    def __init__(self, **attribute_types: TfType) -> None:
        self.attribute_types = attribute_types

    def encode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return {name: t.encode(value.get(name)) for name, t in self.attribute_types.items()}

    def decode(self, value: Any) -> Any:
        if value is None or value is Unknown:
            return value
        return {name: t.decode(value.get(name)) for name, t in self.attribute_types.items()}

    def tf_type(self) -> bytes:
        members = ",".join(
            f"{json.dumps(name)}:{t.tf_type().decode()}" for name, t in self.attribute_types.items()
        )
        return f'["object",{{{members}}}]'.encode()


class ListNestedBlock(SetNestedBlock):
    """A nested block with list nesting (the framework itself only offers set nesting)."""

    def __init__(self, type_name: str, block: Block, *, max_items: int | None = None) -> None:
        super().__init__(type_name, block)
        self.max_items = max_items

    def to_pb(self) -> pb.Schema.NestedBlock:
        nested = super().to_pb()
        nested.nesting = pb.Schema.NestedBlock.NestingMode.LIST
        return nested

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return bool(a_decoded == b_decoded)


def complete(schema: Schema, values: State) -> State:
    """`values` with every attribute and block of `schema` present (null / no blocks).

    Terraform rejects an object missing an attribute, and a stray key is a stand-in bug: both
    are caught here rather than as an opaque decoding error on terraform's side.
    """
    names = {a.name for a in schema.attributes}
    blocks = {b.type_name for b in schema.block_types}
    stray = set(values) - names - blocks
    if stray:
        raise KeyError(f"not in the schema: {sorted(stray)}")
    full = {name: values.get(name) for name in names}
    full.update({name: values.get(name) or [] for name in blocks})
    return full


def schema(attributes: list[Attribute], blocks: list[Any] | None = None) -> Schema:
    """A version 0 schema: none of the stand-ins' resources has had to migrate its state."""
    return Schema(version=0, attributes=attributes, block_types=blocks or [])


def attributes(type_: Callable[[], Any], *names: str, **flags: Any) -> list[Attribute]:
    """One attribute per name, all of one type (String, Bool...) and the same flags."""
    return [Attribute(name, type_(), **flags) for name in names]


class Declared:
    """A resource or data source declared as class data: its type name after the provider's
    prefix (`NAME`) and its `SCHEMA` (terraform's plugin code only reads it)."""

    NAME: ClassVar[str]
    SCHEMA: ClassVar[Schema]

    @classmethod
    def get_name(cls) -> str:
        return cls.NAME

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.SCHEMA


def _guarded(ctx: Any, action: Callable[[], T | None], fallback: T | None) -> T | None:
    try:
        return action()
    except ApiError as err:
        ctx.diagnostics.add_error(err.summary, err.detail)
    except Exception:  # a stand-in bug: report it where the user looks, not as a gRPC failure
        log.exception("unexpected error in %s", ctx.type_name)
        ctx.diagnostics.add_error(
            f"Stand-in provider error in {ctx.type_name}", traceback.format_exc()
        )
    return fallback


class LabResource(Declared, Resource):
    """A managed resource of a stand-in provider.

    Subclasses implement the `do_*` methods; an `ApiError` becomes an error diagnostic and the
    state terraform keeps is what it was before the failed call (nothing, for a create).
    """

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        return _guarded(ctx, lambda: self._complete(self.do_create(ctx, planned)), None)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return _guarded(ctx, lambda: self._complete_or_gone(self.do_read(ctx, current)), current)

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return _guarded(ctx, lambda: self._complete(self.do_update(ctx, current, planned)), current)

    def delete(self, ctx: DeleteContext, current: State) -> State | None:
        def action() -> None:
            self.do_delete(ctx, current)

        failed = object()
        outcome = _guarded(ctx, action, failed)
        return current if outcome is failed else None

    def _complete(self, state: State) -> State:
        return complete(self.get_schema(), state)

    def _complete_or_gone(self, state: State | None) -> State | None:
        # None: the object is gone from the cloud, so terraform drops it (real providers on 404)
        return None if state is None else self._complete(state)

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        raise NotImplementedError

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        raise NotImplementedError

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        raise NotImplementedError

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        raise NotImplementedError


class LabDataSource(Declared, DataSource):
    """A data source of a stand-in provider: `do_read` returns the values, errors as diagnostics."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def read(self, ctx: ReadDataContext, config: State) -> State | None:
        return _guarded(ctx, lambda: complete(self.get_schema(), self.do_read(ctx, config)), None)

    def do_read(self, ctx: ReadDataContext, config: State) -> State:
        raise NotImplementedError


def serve(provider: Provider) -> None:
    """Run a provider process: terraform starts it through the mirror's wrapper script.

    Logging goes to stderr (terraform's own log) only when TF_LOG or TF_LOG_PROVIDER asks for it.
    """
    if os.environ.get("TF_LOG") or os.environ.get("TF_LOG_PROVIDER"):
        logging.basicConfig(
            stream=sys.stderr, level=logging.DEBUG, format="[DEBUG] standin: %(message)s"
        )
    else:
        log.addHandler(logging.NullHandler())
        log.propagate = False
    runner.run_provider(provider)
