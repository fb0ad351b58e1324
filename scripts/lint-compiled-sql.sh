#!/usr/bin/env bash
# sqlfluff over the SQL dbt actually runs: every built model compiled, with the
# macros expanded, linted by .sqlfluff plus .sqlfluff-compiled (which rules
# differ for generated SQL, and why). `sqlfluff lint models` sees only the
# literal text around the macro calls.
#
#   scripts/lint-compiled-sql.sh [DIR]   compile into DIR (default target/lint),
#                                        which must lie inside the project so
#                                        sqlfluff finds .sqlfluff
#
# Needs what dbt needs: the PG* variables of a built staging database and a
# profiles.yml (or DBT_PROFILES_DIR). dbt and sqlfluff come from C360_BIN when
# set (a virtualenv's bin directory), else from the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-target/lint}
bin=${C360_BIN:+$C360_BIN/}

rm -rf "$dir/compiled"
# Ephemeral models are compiled into the models that read them (and those of
# models/graph_macro_tests are read by none); tests are not models.
"${bin}dbt" compile --quiet --no-use-colors --target-path "$dir" --log-path "$dir" \
    --select resource_type:model --exclude config.materialized:ephemeral \
    --indirect-selection empty
"${bin}sqlfluff" lint --nocolor --config .sqlfluff-compiled \
    --disregard-sqlfluffignores "$dir/compiled"
