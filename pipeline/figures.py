"""A chart of the user figures: monthly actives and registered users per platform over time.

Drawn from the published tables when a release is built (never from a working copy, so a
data change alone never has to touch it): the preferred observations for all users, each
at the middle of the span its as-of date covers, on a log scale, one line per platform and
scope (worldwide dashed), named in English and Chinese. The Chinese names need a CJK font: the pinned Noto Sans CJK
package when it is installed, else the names are given in English alone.
"""

from __future__ import annotations

import io

import pandas as pd

from .tables import Table

MEASURES = {"monthly-active-users": "Monthly active users 月活跃用户", "registered-users": "Registered users 注册用户"}


def _cjk_font() -> str | None:
    """The family of the bundled CJK font, registered with matplotlib, or None without it."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(noto_cjk_sans_otc.FONT_PATH))
    return "Noto Sans CJK SC"


def figures_png(tables: list[Table], descriptor: dict) -> bytes | None:
    """The chart as PNG bytes (no timestamp or software version inside); None for a package
    without user figures to draw."""
    published = {t.name: t for t in tables}
    if "metrics" not in published or "platforms" not in published:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = published["metrics"].rows.to_pandas()
    platforms = published["platforms"].rows.to_pandas().set_index("platform_id")
    cjk = _cjk_font()
    chosen = metrics[metrics["preferred"] & metrics["segment"].isna() & metrics["measure"].isin(list(MEASURES))]
    chosen = chosen.assign(
        when=[pd.Timestamp(a) + (pd.Timestamp(b) - pd.Timestamp(a)) / 2 for a, b in zip(
            chosen["as_of_start"], chosen["as_of_end"], strict=True
        )]
    )  # fmt: skip

    def label(platform: str) -> str:
        en = platforms.at[platform, "name_en"] if platform in platforms.index else platform
        zh = platforms.at[platform, "name_zh"] if platform in platforms.index else None
        return f"{en} {zh}" if cjk and isinstance(zh, str) and zh != en else str(en)

    style = {"font.size": 8, "svg.hashsalt": "guanxi"}
    if cjk:
        style["font.family"] = ["DejaVu Sans", cjk]
    with plt.rc_context(style):
        fig, axes = plt.subplots(len(MEASURES), 1, figsize=(11, 10), dpi=100, sharex=True)
        colours = plt.get_cmap("tab20").colors
        names = sorted(chosen["platform_id"].astype(str).unique())
        for ax, (measure, title) in zip(axes, MEASURES.items(), strict=True):
            rows = chosen[chosen["measure"] == measure]
            for index, platform in enumerate(names):
                # A worldwide count and a count in China are different series: never one line.
                for scope, dashes in (("china", "-"), ("unspecified", "-"), ("worldwide", "--")):
                    mine = rows[(rows["platform_id"] == platform) & (rows["scope"] == scope)].sort_values("when")
                    if mine.empty:
                        continue
                    marker = "osD^v"[index // len(colours) % 5]
                    name = label(platform) + (" (worldwide)" if scope == "worldwide" else "")
                    name += " (where unstated)" if scope == "unspecified" else ""
                    ax.plot(mine["when"], mine["value"], marker=marker, markersize=3.5, linewidth=1.2,
                            linestyle=dashes, color=colours[index % len(colours)], label=name)  # fmt: skip
            ax.set_yscale("log")
            ax.set_title(title if cjk else title.split(" 月")[0].split(" 注")[0], loc="left")
            ax.grid(color="#dddddd", which="major")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        version = descriptor.get("version", "")
        fig.suptitle(
            f"User figures of China's professional networking platforms (guanxi {version}): preferred observations, "
            "log scale",
            fontsize=10,
        )
        fig.tight_layout()
        sink = io.BytesIO()
        fig.savefig(sink, format="png", metadata={"Software": None})
        plt.close(fig)
    return sink.getvalue()
