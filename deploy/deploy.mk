# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Deployment: the metrics test driver, man pages, container images and
# their test, and install-deploy. The Makefile includes this file after
# tests/tests.mk; until it does, run  make -f Makefile -f deploy/deploy.mk TARGET
#
#   make man              build/man/nfxdp.8 and build/man/nfxdp-cat.1 (help2man)
#   make deploy-images    localhost/nfxdp and localhost/nfxdp-cat (podman)
#   make container-test   the images, metering a veth between two namespaces
#   make deploy-check     every deployment check, ends with "N passed, N failed"
#   make install-deploy   binaries, man pages, systemd unit, its user (sysusers.d)
#                         and env file under $(DESTDIR)$(PREFIX)

ifndef NFXDP_DEPLOY_MK
NFXDP_DEPLOY_MK := 1

HELP2MAN ?= help2man
SYSCONFDIR ?= $(PREFIX)/etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MANDIR ?= $(PREFIX)/share/man
MAN_DIR := $(BUILD)/man
MAN_PAGES := $(MAN_DIR)/nfxdp.8 $(MAN_DIR)/nfxdp-cat.1
# One version for both pages: nfxdp-cat has no --version of its own.
NFXDP_VERSION_CMD = $(BUILD)/nfxdp --version | awk '{ print $$2 }'

.PHONY: man deploy-images container-test deploy-check install-deploy

# ---- metrics -------------------------------------------------------------


# ---- man pages -----------------------------------------------------------

$(MAN_DIR) $(MAN_DIR)/bin:
	$(Q)mkdir -p $@

# help2man reads --help through a stand-in of the same name that passes the
# text through deploy/man/help.sed (usage forms help2man recognizes).
$(MAN_DIR)/bin/%: $(BUILD)/% deploy/man/help.sed | $(MAN_DIR)/bin
	$(Q)printf '#!/bin/sh\n"%s" "$$@" | sed -f "%s"\n' "$(abspath $<)" \
		"$(abspath deploy/man/help.sed)" > $@ && chmod +x $@

$(MAN_DIR)/nfxdp.8: $(MAN_DIR)/bin/nfxdp deploy/man/nfxdp.h2m
	$(call msg,MAN,$@)
	$(Q)$(HELP2MAN) --no-info --section 8 --name 'XDP network flow meter and collector' \
		--include deploy/man/nfxdp.h2m --output $@ $<

$(MAN_DIR)/nfxdp-cat.1: $(MAN_DIR)/bin/nfxdp-cat $(BUILD)/nfxdp deploy/man/nfxdp-cat.h2m
	$(call msg,MAN,$@)
	$(Q)$(HELP2MAN) --no-info --section 1 --name 'print the flow stream nfxdp publishes' \
		--version-string "$$($(NFXDP_VERSION_CMD))" \
		--include deploy/man/nfxdp-cat.h2m --output $@ $<

man: $(MAN_PAGES)

# ---- containers ----------------------------------------------------------

deploy-images: all
	$(Q)BUILD=$(abspath $(BUILD)) deploy/container-test.sh --build-only

container-test: all tests
	$(Q)BUILD=$(abspath $(BUILD)) deploy/container-test.sh

# Everything about deployment, including the container test (root, podman).
deploy-check: all tests man
	$(Q)BUILD=$(abspath $(BUILD)) deploy/check.sh

# ---- install -------------------------------------------------------------

# The unit names /usr/local (the default PREFIX); other prefixes are
# substituted. An existing env file is kept: it holds the site's options.
install-deploy: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/nfxdp $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 $(BUILD)/nfxdp $(BUILD)/nfxdp-cat $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MAN_DIR)/nfxdp.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 $(MAN_DIR)/nfxdp-cat.1 $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|/usr/local/etc|$(SYSCONFDIR)|g' -e 's|/usr/local/bin|$(PREFIX)/bin|g' \
		deploy/nfxdp.service > $(DESTDIR)$(UNITDIR)/nfxdp.service
	chmod 644 $(DESTDIR)$(UNITDIR)/nfxdp.service
	install -m 644 deploy/nfxdp.sysusers $(DESTDIR)$(SYSUSERSDIR)/nfxdp.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/nfxdp/nfxdp.env ] || \
		install -m 644 deploy/nfxdp.env $(DESTDIR)$(SYSCONFDIR)/nfxdp/nfxdp.env

endif
