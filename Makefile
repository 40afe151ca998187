# Lambda packages. `sam build` (infra/template.yaml, `BuildMethod: makefile`, built in source as
# samconfig.toml says) runs build-<logical id> for each function, one after the other, here; they
# share target/, so the dependencies compile once and each function adds only its own crate and
# its link. scripts/build-lambdas.sh runs the same lambda-<name> targets.
#
# One cargo invocation per function, never one for several: features unify across the packages
# of one invocation, and a function must not link what only another needs (SQLite, mail).

# cargo-lambda (and the Zig it links with) from the repo venv when it is there.
export PATH := $(CURDIR)/.venv/bin:$(PATH)
# panic = "abort": nothing ever unwinds, so Rust code needs no unwind tables (~5% of a package).
export RUSTFLAGS := -C force-unwind-tables=no

# Writes target/lambda/<name>/bootstrap. Not phony: pattern rules only apply to real targets.
lambda-%:
	cargo lambda build --profile lambda-release --package gatehouse-$* --bin $*

build-DiscoveryFunction: lambda-discovery
	cp target/lambda/discovery/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-SigninRedirectFunction: lambda-signin-redirect
	cp target/lambda/signin-redirect/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-CallbackFunction: lambda-callback
	cp target/lambda/callback/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-AuthorizeFunction: lambda-authorize
	cp target/lambda/authorize/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-TokenFunction: lambda-token
	cp target/lambda/token/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-UserinfoFunction: lambda-userinfo
	cp target/lambda/userinfo/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
build-AdminFunction: lambda-admin
	cp target/lambda/admin/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
