"""S copies of one ``nn.Module`` trained as one model: stacked parameters, vmapped calls.

:class:`StackedModule` takes S modules of the same architecture (each initialised from its
member's seed), stacks their parameters into tensors of shape ``[S, ...]`` and evaluates
all members at once with ``torch.func.vmap`` over ``torch.func.functional_call``. The
forward code of the module is used unchanged, so a member computes exactly what the
module computes on its own.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from landaulab.errors import TaskError


class StackedModule:
    """An ensemble of modules with stacked parameters.

    Parameters
    ----------
    modules
        S modules of identical architecture (same parameter names and shapes).

    Attributes
    ----------
    params
        Dict of parameter name to a leaf tensor of shape ``[S, ...]`` (requires grad).
    buffers
        Dict of buffer name to a tensor of shape ``[S, ...]``.
    """

    def __init__(self, modules: Sequence[nn.Module]) -> None:
        modules = list(modules)
        if not modules:
            raise TaskError("a stacked module needs at least one member")
        shapes = {tuple((k, tuple(v.shape)) for k, v in m.named_parameters()) for m in modules}
        if len(shapes) != 1:
            raise TaskError("every member of a stacked module must have the same architecture")
        params, buffers = stack_module_state(modules)  # type: ignore[arg-type]
        self.params: dict[str, torch.Tensor] = dict(params)
        self.buffers: dict[str, torch.Tensor] = dict(buffers)
        self.members = len(modules)
        self._template = copy.deepcopy(modules[0]).to("meta")

    def parameters(self) -> list[torch.Tensor]:
        """The stacked parameter tensors, in a fixed order."""
        return list(self.params.values())

    def _call(self, params: dict[str, Any], buffers: dict[str, Any], *args: Any) -> Any:
        return functional_call(self._template, (params, buffers), args)

    def __call__(self, *args: Any, member_inputs: bool = False) -> Any:
        """Evaluate every member.

        Parameters
        ----------
        *args
            The module's inputs: shared by all members, or with a leading member
            dimension when ``member_inputs`` is true.
        member_inputs
            Whether each input carries one slice per member along its first dimension.

        Returns
        -------
        The module's output with a leading member dimension ``[S, ...]``.
        """
        in_dims = (0, 0, *((0 if member_inputs else None) for _ in args))
        return vmap(self._call, in_dims=in_dims)(self.params, self.buffers, *args)

    def member(self, index: int, device: torch.device | str = "cpu") -> nn.Module:
        """A standalone copy of member ``index`` on ``device`` (detached from the ensemble)."""
        module = copy.deepcopy(self._template).to_empty(device=device)
        state = {k: v[index].detach().to(device).clone() for k, v in self.params.items()}
        state.update({k: v[index].detach().to(device).clone() for k, v in self.buffers.items()})
        module.load_state_dict(state)
        return module
