"""Copy link: every query entry is checked on the server against its widget; bad ones are ignored, with a reason."""
import gradio as gr
import pytest

from explorer.ui.link import Links, parse_value


def _links():
    with gr.Blocks():
        links = Links()
        links.share("n", gr.Slider(100, 5000, step=100, value=2000))
        links.share("t", gr.Slider(0.01, 1.0, step=0.01, value=0.1))
        links.share("seed", gr.Number(value=0, precision=0, minimum=0, maximum=2 ** 31 - 1))
        links.share("data", gr.Dropdown([("Two moons", "moons"), ("Ring", "ring8")], value="ring8"))
        links.share("digit", gr.Dropdown([("any", -1), ("3", 3)], value=-1))
        links.share("samplers", gr.CheckboxGroup([("DDIM", "ddim"), ("DDPM", "ddpm")], value=["ddim"]))
        links.share("on", gr.Checkbox(value=False))
        links.share("text", gr.Textbox(value=""))
        links.tab_ids = {"Sampling": "sampling"}
    return links


def test_valid_entries_come_back_typed_like_the_widgets():
    values, ignored = _links().restore({"n": "300", "t": "0.25", "seed": "7", "data": "moons", "digit": "3",
                                        "samplers": "ddpm,ddim", "on": "1", "text": "-1, 2", "tab": "sampling"})
    assert ignored == []
    assert values == {"n": 300, "t": 0.25, "seed": 7, "data": "moons", "digit": 3, "samplers": ["ddpm", "ddim"],
                      "on": True, "text": "-1, 2", "tab": "sampling"}
    assert isinstance(values["n"], int) and isinstance(values["digit"], int)


@pytest.mark.parametrize("key,raw", [("n", "nan"), ("n", "inf"), ("n", "1e400"), ("n", "99"), ("n", "abc"),
                                     ("t", "-0.5"), ("seed", "-1"), ("seed", "9" * 30), ("data", "../../etc"),
                                     ("digit", "11"), ("samplers", "ddim,rm -rf"), ("on", "yes"),
                                     ("text", "x" * 201), ("tab", "admin"), ("unknown", "1")])
def test_bad_entries_are_ignored_with_a_reason(key, raw):
    values, ignored = _links().restore({key: raw})
    assert values == {} and len(ignored) == 1 and key[:10] in ignored[0]


def test_a_huge_query_is_cut():
    values, ignored = _links().restore({f"k{i}": "1" for i in range(10_000)})
    assert values == {} and len(ignored) == 64


def test_keys_are_unique():
    links = _links()
    with pytest.raises(ValueError):
        links.share("n", gr.Slider())


def test_parse_value_rejects_a_widget_it_cannot_carry():
    with gr.Blocks():
        with pytest.raises(ValueError):
            parse_value(gr.Image(), "x")


@pytest.mark.parametrize("key,raw", [("<a href=//evil>x</a>", "1"), ("n", "<img src=http://other/x>"),
                                     ("<b style='color:red'>bold</b>", "<i>1</i>"), ("tab", "<script>x</script>"),
                                     ("data", '"><img src=x onerror=alert(1)>')])
def test_a_link_with_markup_is_reported_as_text(key, raw):
    """The ignored entries are shown in a toast that renders HTML: no tag, quote or entity of the link survives."""
    import html

    _, ignored = _links().restore({key: raw})
    assert len(ignored) == 1
    assert "<" not in ignored[0] and ">" not in ignored[0] and '"' not in ignored[0]
    quoted = raw if key in ("n", "tab", "data") else key           # a setting's bad value, or an unknown key
    assert repr(quoted[:40]) in html.unescape(ignored[0]), "the characters themselves, once unescaped"
