#!/usr/bin/env bash
# Writes var/local.env for the embedded default on first use: random service
# tokens (never fixed defaults) and local addresses. Existing values are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
env_file=var/local.env
touch "$env_file"
chmod 600 "$env_file"

set_default() {
  grep -q "^$1=" "$env_file" || echo "$1=$2" >> "$env_file"
}
token() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }

set_default RASA_TOKEN "$(token)"
set_default ACTION_SERVER_TOKEN "$(token)"
set_default ACTION_SERVER_URL "http://127.0.0.1:5055/webhook"
set_default RASA_TRACKER_DB "var/tracker.db"
set_default RASA_URL "http://127.0.0.1:5005"
set_default RASA_TELEMETRY_ENABLED "false"
# Municipal systems: the sandbox with its published development tokens.
set_default PAYOUT_SYSTEM_URL "http://127.0.0.1:8090/payout-system/v1"
set_default PAYOUT_SYSTEM_TOKEN "sandbox-dev-payout-token"
set_default CASE_SYSTEM_URL "http://127.0.0.1:8090/case-system/v1"
set_default CASE_SYSTEM_TOKEN "sandbox-dev-case-token"
set_default SMS_GATEWAY_URL "http://127.0.0.1:8090/sms-gateway/v1"
set_default SMS_GATEWAY_TOKEN "sandbox-dev-sms-token"
# Demo sign-in of the demo pages (development only): a fresh EC P-256 key pair
# per checkout. The bridge signs test login tokens with the private key; the
# action server trusts the public key. Never a fixed key.
demo_key=var/demo-login-key.pem
if [ ! -s "$demo_key" ]; then
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$demo_key" 2>/dev/null)
  openssl pkey -in "$demo_key" -pubout -out var/demo-login-public.pem 2>/dev/null
fi
set_default HANDOFF_DEMO_LOGIN_KEY_FILE "$PWD/$demo_key"
set_default IDENTITY_JWT_KEY_FILE "$PWD/var/demo-login-public.pem"
set_default IDENTITY_JWT_AUDIENCE "ddh-chat"
set_default IDENTITY_JWT_ISSUER "https://demo-login.invalid"
echo "$env_file"
