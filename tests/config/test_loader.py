from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.config import loader, snapshot
from csm.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(tmp_path: Path, env: dict[str, str] | None = None) -> loader.LoadedConfig:
    main = tmp_path / "csm.yaml"
    return loader.load(main, tmp_path / "conf.d", env or {})


def test_an_empty_file_gives_cpanel_defaults(tmp_path: Path) -> None:
    write(tmp_path / "csm.yaml", "")
    config = load(tmp_path).config
    assert config.paths.state_dir == "/var/lib/csm/state"
    assert config.mail.exim_mainlog == "/var/log/exim_mainlog"
    assert config.mail.exim_spool == "/var/spool/exim"
    assert config.mysql.defaults_file == "/root/.my.cnf"
    assert config.cpanel.whmapi1_bin == "/usr/local/cpanel/bin/whmapi1"


def test_dropins_merge_in_lexical_order(tmp_path: Path) -> None:
    write(
        tmp_path / "csm.yaml",
        "mail:\n  mta: exim\n  exim_bin: /a\napi:\n  tokens:\n"
        "  - {name: ops, token: aaaaaaaaaaaaaaaa}\n",
    )
    write(tmp_path / "conf.d/20-b.yaml", "mail:\n  exim_bin: /b\n")
    write(
        tmp_path / "conf.d/10-a.yaml",
        "mail:\n  exim_bin: /ignored\n  command_timeout: 9\n"
        "api:\n  tokens:\n  - {name: ci, token: bbbbbbbbbbbbbbbb, scope: admin}\n",
    )
    write(tmp_path / "conf.d/notes.txt", "mail: {exim_bin: /not-yaml-suffix}\n")
    loaded = load(tmp_path)
    assert loaded.config.mail.exim_bin == "/b"  # scalar: last drop-in wins
    assert loaded.config.mail.mta == "exim"  # map: merged, untouched keys kept
    assert loaded.config.mail.command_timeout == 9
    assert [t.name for t in loaded.config.api.tokens] == ["ops", "ci"]  # lists append
    assert [p.name for p in loaded.dropins] == ["10-a.yaml", "20-b.yaml"]


def test_unknown_keys_are_named_with_their_path_and_file(tmp_path: Path) -> None:
    write(tmp_path / "csm.yaml", "mail:\n  exim_binary: /usr/sbin/exim\n")
    write(
        tmp_path / "conf.d/50-x.yaml",
        "paths:\n  rooot: /srv\napi:\n  tokens:\n  - {name: a, token: x}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    problems = {p.path: p for p in caught.value.problems}
    assert problems["mail.exim_binary"].message == "unknown key"
    assert problems["mail.exim_binary"].source == f"{tmp_path / 'csm.yaml'}:2"
    assert problems["paths.rooot"].source == f"{tmp_path / 'conf.d/50-x.yaml'}:2"
    assert "api.tokens[0].token" in problems  # too short a token


def test_bad_values_are_reported_with_their_path(tmp_path: Path) -> None:
    write(
        tmp_path / "csm.yaml",
        "mail:\n  mta: sendmail\nmysql:\n  port: 70000\n"
        "paths:\n  state_dir: relative/dir\napi:\n  listen: nowhere\n",
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == ["api.listen", "mail.mta", "mysql.port", "paths.state_dir"]


def test_yaml_syntax_errors_carry_line_and_column(tmp_path: Path) -> None:
    write(tmp_path / "csm.yaml", "mail:\n  mta: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert caught.value.problems[0].path == "(yaml)"
    assert f"{tmp_path / 'csm.yaml'}:3:1" in caught.value.problems[0].message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_the_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    write(tmp_path / "csm.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert caught.value.problems[0].path == "(top level)"


def test_a_missing_main_file_is_an_error_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as caught:
        load(tmp_path)
    assert caught.value.fix and "--config" in caught.value.fix


def test_env_overrides_beat_files(tmp_path: Path) -> None:
    write(tmp_path / "csm.yaml", "mail:\n  exim_bin: /file\n")
    env = {"CSM_MAIL__EXIM_BIN": "/env", "CSM_MYSQL__PORT": "3307", "CSM_CONFIG": "ignored"}
    loaded = load(tmp_path, env)
    assert loaded.config.mail.exim_bin == "/env"
    assert loaded.config.mysql.port == 3307
    assert loaded.env_overrides == ("CSM_MAIL__EXIM_BIN", "CSM_MYSQL__PORT")


def test_an_unknown_env_override_names_the_variable(tmp_path: Path) -> None:
    write(tmp_path / "csm.yaml", "")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"CSM_MAIL__NOPE": "1"})
    assert caught.value.problems[0].source == "CSM_MAIL__NOPE"


def test_config_path_precedence() -> None:
    assert snapshot.config_path("/a.yaml", {"CSM_CONFIG": "/b.yaml"}) == Path("/a.yaml")
    assert snapshot.config_path(None, {"CSM_CONFIG": "/b.yaml"}) == Path("/b.yaml")
    assert snapshot.config_path(None, {}) == Path("/etc/csm/csm.yaml")
    assert snapshot.config_dir(None, Path("/x/csm.yaml"), {}) == Path("/x/conf.d")
    assert snapshot.config_dir(None, Path("/x/csm.yaml"), {"CSM_CONFIG_DIR": "/d"}) == Path("/d")


def test_the_hash_changes_with_the_effective_config(tmp_path: Path) -> None:
    write(tmp_path / "csm.yaml", "mail: {exim_bin: /a}\n")
    first = load(tmp_path).sha256
    assert load(tmp_path).sha256 == first
    write(tmp_path / "csm.yaml", "mail: {exim_bin: /b}\n")
    assert load(tmp_path).sha256 != first


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("mail", "mta"), "mail.mta"),
        (("api", "tokens", 0, "scope"), "api.tokens[0].scope"),
        ((), "(top level)"),
    ],
)
def test_dotted_paths(loc: tuple[Any, ...], text: str) -> None:
    assert loader.dotted(loc) == text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
layers = st.dictionaries(st.text(max_size=3), json_values, max_size=4)


@given(layers, layers)
def test_merge_rules_hold_for_any_layers(base: dict[str, Any], layer: dict[str, Any]) -> None:
    merged = loader.merge(base, layer)
    assert set(merged) == set(base) | set(layer)
    for key, value in merged.items():
        if key not in layer:
            assert value == base[key]
        elif isinstance(base.get(key), dict) and isinstance(layer[key], dict):
            assert set(value) == set(base[key]) | set(layer[key])
        elif isinstance(base.get(key), list) and isinstance(layer[key], list):
            assert value == base[key] + layer[key]
        else:
            assert value == layer[key]
