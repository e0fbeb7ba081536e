"""Insight API for supervisors: a period's report as JSON, and each of its tables as CSV."""

from __future__ import annotations

from sanic import Blueprint, Request, json, text

from ..errors import Invalid
from ..services import insight as insight_svc
from .common import deps, require_supervisor
from .contract import CSV, Reply, operation
from .models import ReportQuery, TablePath
from .responses import InsightReport

bp = Blueprint("insight", url_prefix="/api/v1/agent/insight")


def _query(request: Request) -> insight_svc.Query:
    return insight_svc.Query.from_args({k: request.args.get(k) for k in ("from", "to", "tz", "municipality", "topic")})


@bp.get("/", ctx_auth="supervisor", strict_slashes=False)
@operation(
    tags=['agent'],
    summary='Insight report for a period of up to a year (supervisor)',
    security=('agentSession', 'agentBearer'),
    query=ReportQuery,
    responses={
        200: Reply(InsightReport, 'Report'),
    },
    errors=(400, 401, 403),
)
async def report(request: Request):
    await require_supervisor(request)
    return json(await insight_svc.report(deps(request), _query(request)))


@bp.get("/export/<table:str>", ctx_auth="supervisor")
@operation(
    tags=['agent'],
    summary='One table of the insight report as CSV (supervisor)',
    security=('agentSession', 'agentBearer'),
    path=TablePath,
    query=ReportQuery,
    responses={
        200: Reply(CSV, "CSV with a header row; cells that a spreadsheet would read as a formula start with '"),
    },
    errors=(400, 401, 403),
)
async def export(request: Request, table: str):
    await require_supervisor(request)
    if table not in insight_svc.TABLES:
        raise Invalid("invalid_table", "table must be one of " + ", ".join(insight_svc.TABLES))
    q = _query(request)
    data = await insight_svc.report(deps(request), q, table=table)
    filename = f"insight-{table}-{q.first.isoformat()}-{q.last.isoformat()}.csv"
    return text(insight_svc.to_csv(data, table), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'})
