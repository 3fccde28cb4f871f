# `make demo`: the devcluster with its real node and registry, arcdesk installed there with
# Helm (operator and gateway pods pulled by digest), and a two-seat course whose links it prints.
# Included by the top-level Makefile; targets run from the repository root.

DEMO_PY := .venv/bin/python
# When `make demo` started, so the demo can say how long the first link took.
DEMO_T0 := $(shell date +%s.%N)

.PHONY: demo demo-status demo-down

demo: setup realnode-up image-deps  ## the demo: helm install on the real node, a real course; prints the links
	@ARCDESK_DEMO_T0=$(DEMO_T0) $(DEMO_PY) -m devcluster.demo up

demo-status:  ## the demo's pods; RSS, PSS and CPU (10 s sample) of every process: control plane, node, pods
	@$(DEMO_PY) -m devcluster.demo status

demo-down:  ## remove the demo: course, Helm release, namespace (the devcluster keeps running)
	@$(DEMO_PY) -m devcluster.demo down
