"""JupyterLab in the image (copied to /etc/jupyter/): no start without a token of one's own.

The token is the only thing between JupyterLab, which runs any code, and whoever reaches its port
(on Docker Engine before 28, hosts on the same network segment can reach ports published on
127.0.0.1). The .env.example placeholder is public, so it counts as no token at all.
"""

import os

_token = os.environ.get("JUPYTER_TOKEN", "").strip()
if not _token or _token.lower().startswith("change-me"):
    raise SystemExit("jupyter: JUPYTER_TOKEN is empty or still the placeholder from .env.example; set "
                     "a secret of your own in .env (python3 -c \"import secrets; "
                     "print(secrets.token_urlsafe(24))\"), then `docker compose up -d jupyter`")
