"""Links from each DAG's ``doc_md`` to its section of the operator's guide, served by the Airflow API
server itself at ``/mlops-guide/`` (``plugins/mlops_guide.py``): a root-relative link works on any host."""

from __future__ import annotations

GUIDE_URL = "/mlops-guide/"
SECTIONS = {
    "daily": "The daily life of the platform",
    "history": "Load or reload history",
    "quarantine": "Read a quarantine",
    "approve": "Approve or reject a model",
    "rollback": "Roll back a model or data",
    "drift": "Read drift reports",
    "alerts": "What each alert means and what to do",
    "logs": "Where every log lives",
    "troubleshooting": "Troubleshooting the stack",
}


def guide_link(*sections: str) -> str:
    """A Markdown line linking to the named sections of the guide (keys of ``SECTIONS``)."""
    links = [f"[{SECTIONS[key]}]({GUIDE_URL}#{anchor(SECTIONS[key])})" for key in sections]
    return "**Operator's guide:** " + " · ".join(links)


def anchor(title: str) -> str:
    """The guide page's (and GitHub's) anchor of a heading."""
    import re

    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title.strip().lower()))
