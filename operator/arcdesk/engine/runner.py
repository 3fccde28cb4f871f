"""Run the operator: kopf with arcdesk's handlers, in the given namespaces or all."""

from __future__ import annotations

import logging
import os

import kopf

from arcdesk.engine.runtime import Options, Runtime


def run(options: Options, verbose: bool = False) -> None:
    """Block until the operator is stopped (SIGINT/SIGTERM)."""
    if bool(options.namespaces) == options.all_namespaces:
        raise ValueError("give namespaces or all_namespaces, not both or neither")
    if options.kubeconfig:
        os.environ["KUBECONFIG"] = options.kubeconfig  # kopf's own login reads it too
    import arcdesk.engine.handlers  # noqa: F401 - registers the handlers with kopf

    kopf.configure(verbose=verbose)
    if not verbose:  # kopf logs every successful watch handler call at INFO
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    kopf.run(
        namespaces=list(options.namespaces),
        clusterwide=options.all_namespaces,
        standalone=True,  # one operator per scope; no peering resources needed
        memo=kopf.Memo(runtime=Runtime(options)),
    )
