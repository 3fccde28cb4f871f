# `make demo`: the devcluster with its real node, the locally built desktop image, the operator
# and the gateway in the background, and a two-seat course whose links it prints.
# Included by the top-level Makefile; targets run from the repository root.

DEMO_PY := .venv/bin/python
# When `make demo` started, so the demo can say how long the first link took.
DEMO_T0 := $(shell date +%s.%N)

.PHONY: demo demo-status demo-down

demo: override PROFILE = base
demo: setup realnode-up image-import  ## the demo: a real course on the real node; prints the links
	@ARCDESK_DEMO_T0=$(DEMO_T0) $(DEMO_PY) -m devcluster.demo up

demo-status:  ## RSS, PSS and CPU (10 s sample) of every process of the demo: control plane, node, desktops, operator, gateway
	@$(DEMO_PY) -m devcluster.demo status

demo-down:  ## stop the demo: course namespace, gateway, operator (the devcluster keeps running)
	@$(DEMO_PY) -m devcluster.demo down
