"""RemoteMonitor: POST the epoch logs to a server (standard library only, no `requests`)."""
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .. import _validate
from ._common import is_chief
from .base import Callback

_OWNER = "RemoteMonitor"
_TIMEOUT_S = 10.0     # a server that does not answer delays an epoch at most this long


class RemoteMonitor(Callback):
    """Send `{"epoch": epoch, **logs}` to `root + path` by HTTP POST at the end of each epoch.

    As Keras: the body is form-encoded with the logs as a JSON string in the form field
    `field`, or, with `send_as_json=True`, the JSON object itself
    (`Content-Type: application/json`). A POST that fails (no server, an HTTP error, a timeout)
    warns and training goes on.

    Args:
        root: the server's root URL, e.g. "http://localhost:9000".
        path: the path appended to `root`.
        field: name of the form field that holds the JSON (when not `send_as_json`).
        headers: dict of extra HTTP headers, or None.
        send_as_json: send the logs as a JSON body instead of a form.

    Example:
        >>> import kerasnp as keras
        >>> monitor = keras.callbacks.RemoteMonitor(root="http://localhost:9000")
        >>> # model.fit(x, y, callbacks=[monitor])   # one POST per epoch
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        for name, value in (("root", root), ("path", path), ("field", field)):
            if not isinstance(value, str):
                raise TypeError(f"{_OWNER}: argument `{name}` must be a string. "
                                f"Received: {name}={value!r}")
        if urllib.parse.urlsplit(root).scheme not in ("http", "https"):
            raise ValueError(f"{_OWNER}: argument `root` must be an http:// or https:// URL. "
                             f"Received: root={root!r}")
        if headers is not None and not (isinstance(headers, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise TypeError(f"{_OWNER}: argument `headers` must be None or a dict of strings. "
                            f"Received: headers={headers!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = _validate.boolean(send_as_json, "send_as_json", _OWNER)

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief():
            return
        send = {"epoch": epoch}
        send.update((k, _plain(v)) for k, v in (logs or {}).items())
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # HTTPError is a URLError; timeouts and refused connections are OSErrors
            warnings.warn(f"{_OWNER}: could not send the logs of epoch {epoch} to "
                          f"{self.root + self.path}: {exc}. Training goes on.", UserWarning,
                          stacklevel=2)


def _plain(value):
    """A JSON-ready value: NumPy scalars as Python numbers, arrays as lists."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if np.size(value) == 1 else value.tolist()
    return value
