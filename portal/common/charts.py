"""Charts drawn on the server as SVG by pygal, from plain data: for the staff's statistics page and the yearly
activity report. A chart is data first (:class:`Chart`): the page shows the picture with a text alternative and
the same figures as a table, so nothing is only in the picture (RGAA 1.1 and 1.3: informative images).

pygal, not hand-drawn SVG; its JavaScript tooltips (loaded by default from a CDN) are switched off, and every
number it writes goes through the French formatting layer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from html import escape

from portal.common import i18n
from portal.common.formatting import decimal_fr, money_fr
from portal.common.labels import N_

# Okabe and Ito's palette: told apart by people with any common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F", "#000000")
# Translated when drawn (a chart is also drawn by a worker, for the report, with no request).
NO_DATA = N_("Aucune donnée pour l'instant")

Number = int | Decimal | float
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Number | None, ...]


@dataclass(frozen=True)
class Chart:
    """A bar chart: one bar (or one stack) per category, one colour per series.

    ``summary`` is the text alternative: what a reader should take from the picture, in one or two sentences.
    ``money``: the values are euros. ``stacked``: the series add up to a whole (e.g. statuses of the bodies)."""

    key: str
    title: str
    summary: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    stacked: bool = False
    horizontal: bool = False
    money: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.categories or all(not value for series in self.series for value in series.values)

    def label(self, value: Number | None) -> str:
        """A value as a reader sees it, in the table and in the picture alike."""
        if value is None:
            return "—"
        if self.money:
            return money_fr(Decimal(str(value)) if isinstance(value, float) else Decimal(value))
        return decimal_fr(value)

    def rows(self) -> list[tuple[str, list[str]]]:
        """The data table behind the chart: a row per category, a column per series."""
        return [
            (category, [self.label(series.values[index]) for series in self.series])
            for index, category in enumerate(self.categories)
        ]


def _axis_label(chart: Chart):
    def label(value):
        if value is None:
            return ""
        # The axis takes floats; whole numbers are shown without decimals ("1 500", not "1 500,0").
        number = Decimal(str(value))
        if number == number.to_integral_value():
            number = number.to_integral_value()
        return chart.label(number)

    return label


def whole_ticks(top: Number, *, most: int = 8) -> list[int]:
    """Ticks 0, step, 2·step… covering ``top`` with at most ``most`` intervals, the step a whole 1, 2 or 5 × 10ⁿ:
    counts of bodies or sessions are never read "0,2"."""
    top = max(int(Decimal(str(top)).to_integral_value(rounding=ROUND_CEILING)), 1)
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if top <= step * most:
                return list(range(0, -(-top // step) * step + 1, step))
        power *= 10


def _value_ticks(chart: Chart) -> list[int] | None:
    values = [Decimal(str(v)) for series in chart.series for v in series.values if v is not None]
    if chart.money or not values or any(v != v.to_integral_value() for v in values):
        return None
    if chart.stacked:
        top = max(
            (
                sum((Decimal(str(s.values[i] or 0)) for s in chart.series), Decimal(0))
                for i in range(len(chart.categories))
            ),
            default=Decimal(0),
        )
    else:
        top = max(values)
    return whole_ticks(top)


# pygal's estimate of a label's width (0.6 em per character: it sizes the margins with it), a wide estimate of a
# legend name's (DejaVu Sans averages about 0.5 em on French words), the margins and a legend's colour box.
CHAR_EM, LEGEND_EM, MARGINS, LEGEND_BOX = 0.6, 0.55, 50, 12 + 5 + 10
LABEL_FONT, LEGEND_FONT = 12, 13


def legend_columns(chart: Chart, width: int) -> int:
    """As many legend columns (three at most) as the plot's width holds, each as wide as the longest name: pygal
    places the columns at fixed steps across the plot, so a narrower column overlaps the next one's name (a
    horizontal chart whose long category names take most of the width)."""
    if len(chart.series) < 2:
        return 1
    labels = chart.categories if chart.horizontal else ["0" * 12]  # the value axis: « 1 766 423 € » at most
    plot = width - MARGINS - max(len(label) for label in labels or [""]) * CHAR_EM * LABEL_FONT
    column = max(len(series.name) for series in chart.series) * LEGEND_EM * LEGEND_FONT + LEGEND_BOX
    return max(1, min(len(chart.series), 3, int(plot // column)))


def render_svg(chart: Chart, *, width: int = 720, height: int = 360) -> str:
    """The chart as a standalone SVG document (text), with no script and no external resource."""
    import pygal  # imported lazily: only the statistics pages and the report draw charts
    from pygal.style import Style

    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1e1e1e",
        foreground_strong="#161616",
        foreground_subtle="#666666",
        colors=PALETTE,
        font_family="Marianne, Arial, 'DejaVu Sans', sans-serif",
        label_font_size=LABEL_FONT,
        major_label_font_size=LABEL_FONT,
        legend_font_size=LEGEND_FONT,
        value_font_size=12,
        no_data_font_size=16,
    )
    kind = {
        (False, False): pygal.Bar,
        (True, False): pygal.StackedBar,
        (False, True): pygal.HorizontalBar,
        (True, True): pygal.HorizontalStackedBar,
    }[(chart.stacked, chart.horizontal)]
    drawing = kind(
        style=style,
        width=width,
        height=height,
        js=[],  # no tooltips script: by default pygal links one from a CDN
        disable_xml_declaration=True,
        show_legend=len(chart.series) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=legend_columns(chart, width),
        truncate_legend=-1,
        truncate_label=-1,
        x_label_rotation=30 if len(chart.categories) > 6 and not chart.horizontal else 0,
        print_values=False,
        no_data_text=i18n.translations().gettext(NO_DATA),
        value_formatter=_axis_label(chart),
        formatter=_axis_label(chart),
        include_x_axis=True,
        min_scale=1,
        explicit_size=True,
    )
    ticks = _value_ticks(chart)
    if ticks is not None:
        drawing.config.y_labels = ticks
    drawing.x_labels = list(chart.categories)
    for series in chart.series:
        drawing.add(series.name, [None if value is None else float(value) for value in series.values])
    svg = drawing.render(is_unicode=True)
    # pygal always writes its configuration in a <script> (for the tooltips we do not load): a chart runs nothing.
    svg = _SCRIPT.sub("", svg)
    # The picture's accessible name is the chart's title, not the library's ("Pygal").
    return svg.replace("<title>Pygal</title>", f"<title>{escape(chart.title)}</title>", 1)
