#!/usr/bin/env bash
# Stops the project's PostgreSQL cluster (data kept in .pgdata/).
source "$(dirname "$0")/lib.sh"
stop_cluster
