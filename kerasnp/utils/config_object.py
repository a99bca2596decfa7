"""`keras.utils.Config`: a dict of settings read as attributes, which can be frozen."""
import json

__all__ = ["Config"]

_FROZEN = "Cannot mutate attribute(s) because the config is frozen."


class Config:
    """Settings held as attributes (`config.lr`) and items (`config["lr"]`), frozen on demand.

    Args:
        **kwargs: the initial settings.

    Example:
        >>> from kerasnp.utils import Config
        >>> config = Config(learning_rate=0.1, epochs=3)
        >>> config.epochs += 1
        >>> config.freeze()
        >>> config.to_json()
        '{"learning_rate": 0.1, "epochs": 4}'
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        """True after `freeze()`: every change raises a `ValueError`."""
        return self._frozen

    def freeze(self):
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError(_FROZEN)

    def __getattr__(self, name):          # only called for names that are not attributes
        config = self.__dict__.get("_config", {})
        if name in config:
            return config[name]
        raise AttributeError(f"Unknown attribute: '{name}'.")

    def __setattr__(self, name, value):
        self._raise_if_frozen()
        self._config[name] = value

    def __delattr__(self, name):
        self._raise_if_frozen()
        if name not in self._config:
            raise AttributeError(f"Unknown attribute: '{name}'.")
        del self._config[name]

    def __getitem__(self, key):
        return self._config[key]

    def __setitem__(self, key, value):
        self._raise_if_frozen()
        self._config[key] = value

    def __delitem__(self, key):
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, key):
        return key in self._config

    def __iter__(self):
        return iter(self._config)

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return f"<Config {self._config!r}>"

    def get(self, key, default=None):
        return self._config.get(key, default)

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._raise_if_frozen()
        self._config.update(*args, **kwargs)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def as_dict(self):
        """A copy of the settings as a plain dict."""
        return dict(self._config)

    def to_json(self):
        """The settings as a JSON string (values must be JSON-serializable)."""
        return json.dumps(self._config)
