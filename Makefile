# Lambda packages. `sam build` (infra/template.yaml, `BuildMethod: makefile`, built in source as
# samconfig.toml says) runs build-<logical id> for each function, one after the other, here. The
# first one builds every function (`lambdas`); the later ones find cargo's work done and only
# copy. scripts/build-lambdas.sh runs the same `lambdas` target.
#
# Two cargo invocations: the sign-in function, the only one that sends mail (feature `mail`), on
# its own, then the other six together, so that their links run side by side. Features unify
# across the packages of one invocation, and a function must not link what only another needs.

# cargo-lambda (and the Zig it links with) from the repo venv when it is there.
export PATH := $(CURDIR)/.venv/bin:$(PATH)
# panic = "abort": nothing ever unwinds, so Rust code needs no unwind tables.
export RUSTFLAGS := -C force-unwind-tables=no
OBJCOPY ?= objcopy

CARGO_LAMBDA := cargo lambda build --profile lambda-release
PLAIN_FUNCTIONS := discovery callback authorize token userinfo admin

.PHONY: lambdas
lambdas:
	$(CARGO_LAMBDA) --package gatehouse-signin-redirect --bin signin-redirect
	$(CARGO_LAMBDA) $(foreach name,$(PLAIN_FUNCTIONS),--package gatehouse-$(name) --bin $(name))
	# Fat LTO merges in the standard library's unwind tables, which the flag above cannot
	# drop; with panic = "abort" nothing reads them (a panic's backtrace comes out empty).
	# A tenth of each package.
	for name in signin-redirect $(PLAIN_FUNCTIONS); do \
		$(OBJCOPY) --remove-section=.eh_frame --remove-section=.eh_frame_hdr target/lambda/$$name/bootstrap || exit 1; \
	done

build-DiscoveryFunction: lambdas
	cp target/lambda/discovery/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-SigninRedirectFunction: lambdas
	cp target/lambda/signin-redirect/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-CallbackFunction: lambdas
	cp target/lambda/callback/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-AuthorizeFunction: lambdas
	cp target/lambda/authorize/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-TokenFunction: lambdas
	cp target/lambda/token/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-UserinfoFunction: lambdas
	cp target/lambda/userinfo/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-AdminFunction: lambdas
	cp target/lambda/admin/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
