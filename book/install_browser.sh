#!/usr/bin/env bash
# Install what the browser test (tests/test_browser.py) needs from Debian's packages: Chromium at
# /usr/bin/chromium, driven by Playwright's Python package (pinned in requirements.txt; its own
# browser download, `playwright install`, is never used), and a small font with Chinese
# characters for the screenshots. Needs root on Debian, as CI has; the test runs this script
# itself when something is missing. Usage: bash book/install_browser.sh  (or: make browser)
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
have_font() { fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; }
if [ -x "$CHROMIUM" ] && have_font; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: the browser test needs Debian's chromium and a Chinese font; as root, run:" >&2
  echo "  apt-get update && apt-get install -y chromium fonts-wqy-microhei" >&2
  exit 1
fi
echo "installing Debian's chromium and fonts-wqy-microhei for the browser test (about a minute)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
"$CHROMIUM" --version
