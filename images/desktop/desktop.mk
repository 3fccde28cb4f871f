# Desktop tier: install on this machine the packages the desktop image uses, so the session
# runtime runs natively under test. Included by the top-level Makefile (run from the repo root).

DESKTOP_DIR := images/desktop
DESKTOP_CACHE := $(HOME)/.cache/arcdesk
# Same layout as the image's /opt/arcdesk-venv (see Dockerfile); tests read ARCDESK_DESKTOP_VENV.
DESKTOP_VENV ?= $(DESKTOP_CACHE)/desktop-venv
# CellProfiler's own venv (the image's /opt/cellprofiler-venv); its launcher is in DESKTOP_VENV.
CELLPROFILER_VENV ?= $(DESKTOP_CACHE)/cellprofiler-venv
DESKTOP_INPUTS := $(sort $(wildcard $(DESKTOP_DIR)/packages/* $(DESKTOP_DIR)/icons/*)) \
	$(addprefix $(DESKTOP_DIR)/,install-packages.sh install-imagej.py install-cellprofiler.sh \
	cellprofiler-offline.py make-sample-data.py make-cellprofiler-pipeline.py desktop.mk)
# The stamp names a hash of everything that decides what gets installed: edit a list, reinstall.
DESKTOP_HASH := $(shell cat $(DESKTOP_INPUTS) 2>/dev/null | sha256sum | cut -c1-16)
DESKTOP_STAMP := $(DESKTOP_CACHE)/desktop-deps.$(DESKTOP_HASH)

.PHONY: desktop-deps

desktop-deps: $(DESKTOP_STAMP) ## Debian, PyPI and Maven packages of the bioimage desktop, and Chromium for tests

$(DESKTOP_STAMP):
	@mkdir -p $(DESKTOP_CACHE)
	apt-get update -q
	$(DESKTOP_DIR)/install-packages.sh apt bioimage $(DESKTOP_DIR)/packages/test.apt
	@# A fresh venv, as in the image: packages dropped from the lists must not linger here.
	rm -rf $(DESKTOP_VENV) $(CELLPROFILER_VENV)
	$(DESKTOP_DIR)/install-packages.sh pip bioimage $(DESKTOP_VENV)
	/usr/bin/python3 $(DESKTOP_DIR)/install-imagej.py $(DESKTOP_VENV) --pip $(DESKTOP_VENV)/bin/pip
	$(DESKTOP_DIR)/install-cellprofiler.sh $(CELLPROFILER_VENV) $(DESKTOP_VENV)
	$(DESKTOP_VENV)/bin/python $(DESKTOP_DIR)/make-sample-data.py $(DESKTOP_VENV)
	$(CELLPROFILER_VENV)/bin/python $(DESKTOP_DIR)/make-cellprofiler-pipeline.py \
		$(DESKTOP_VENV)/share/arcdesk-data/count-nuclei.cppipe
	@rm -f $(DESKTOP_CACHE)/desktop-deps.*
	@touch $@
