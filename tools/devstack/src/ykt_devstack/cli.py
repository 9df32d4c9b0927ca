"""`make run` / `make stop`: the platform on this machine, and one disbursement cycle through it."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.table import Table
from ykt_contracts.reference import PROGRAM_NAMES

from .demo import PROGRAM, DemoFailure, Report, failures, run_cycle
from .stack import Stack, stop_from_pidfile

app = typer.Typer(add_completion=False, help="一卡通 platform on this machine.")
console = Console(width=None if sys.stdout.isatty() else 150, soft_wrap=True)  # URLs stay whole
RUN_DIR = Path("var/run")


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def summary(rep: Report, stack: Stack) -> None:
    """A readable account of the cycle, in Chinese and English."""
    console.rule(f"[bold]一卡通发放演示 · Disbursement cycle — {PROGRAM_NAMES[PROGRAM]}")
    t = Table("步骤 step", "内容 what", "笔数 records", "金额（元）amount (yuan)")
    t.add_row(
        "1 提交 submit", "民政局提交低保批次 bureau submits", str(rep.submitted[0]), yuan(rep.submitted[1])
    )
    for code, n in sorted(rep.rejected_by_code.items()):
        t.add_row("2 校验 validate", f"未通过 rejected: {code}", str(n), "")
    t.add_row("2 校验 validate", "修正后重新提交 corrected & resubmitted", str(rep.corrected_resubmitted), "")
    t.add_row("2 校验 validate", "撤回 withdrawn (duplicates)", str(rep.withdrawn), "")
    t.add_row(
        "3 发送 send",
        "发送财政复核、财政审核通过 sent, finance approved",
        str(rep.sent[0]),
        yuan(rep.sent[1]),
    )
    for bank, v in sorted(rep.per_bank.items()):
        t.add_row(
            "4 拨付 fund",
            f"国库拨付 {bank} treasury funded",
            str(v.get("records", "")),
            yuan(v.get("funded_fen", 0)),
        )
    t.add_row(
        "5 反馈 feedback", "首次到账 paid on first attempt", str(rep.first_paid[0]), yuan(rep.first_paid[1])
    )
    for reason, n in sorted(rep.failed_by_reason.items()):
        t.add_row("5 反馈 feedback", f"失败 failed: {reason}", str(n), "")
    t.add_row(
        "5 重发 re-issue", "修正后重新发放 corrected & re-issued", str(rep.reissued[0]), yuan(rep.reissued[1])
    )
    t.add_row(
        "5 重发 re-issue", "重新发放到账 re-issue paid", str(rep.reissue_paid[0]), yuan(rep.reissue_paid[1])
    )
    t.add_row(
        "5 银行 bank",
        "银行实际入账 / 短信 bank credits / SMS",
        f"{rep.bank_credits} / {rep.sms}",
        yuan(rep.bank_credit_fen),
    )
    for p in rep.publications:
        t.add_row(
            "6 公示 disclose",
            "脱敏名单已公示 masked list published",
            str(p.get("record_count", "")),
            yuan(int(p.get("amount_fen", 0))),
        )
    console.print(t)
    c = Table("检查 check", "结果 result")
    for name, ok in rep.checks:
        c.add_row(name, "[green]通过 ok" if ok else "[red]失败 FAILED")
    console.print(c)
    d = stack.urls["disclosure"]
    console.print("[bold]去哪里看 · where to look")
    console.print(f"  业务接口文档 API docs (OpenAPI):   {stack.urls['gateway']}/docs")
    console.print(f"  公示页面 disclosure page:          {d}/public")
    for p in rep.publications:
        console.print(f"  本批公示 this batch's list:        {p.get('url') or d + p['path']}")
    for p in rep.publications[:1]:
        places = httpx.get(p["places_url"], timeout=30).json().get("items", []) if p.get("places_url") else []
        if places:
            console.print(f"  村务公告 village notice (PDF):     {places[0]['notice_url']}")
    console.print(
        f"  指标 metrics (Prometheus):         {stack.urls['registry']}/metrics  (每个服务 each service)"
    )
    console.print(f"  日志 logs:                         {stack.log_dir}/")
    console.print(
        "  演示账号 demo users (密码 password Demo-Passw0rd!): admin finance civil agri town-xsc town-bq bank-cqrcb audit"
    )


@app.command()
def run(
    once: bool = typer.Option(False, "--once", help="Run one cycle, print the summary and exit."),
    people: int = typer.Option(300, help="Synthetic beneficiaries to register."),
) -> None:
    """Start everything, drive one disbursement cycle, print the summary, keep running until Ctrl-C."""
    stack = Stack(RUN_DIR.resolve())
    stopping = threading.Event()

    def _stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    code = 0
    try:
        console.print("[bold]启动平台 starting the platform[/] (broker, PostgreSQL, Redis, 8 processes)…")
        stack.start()
        console.print(f"已就绪 ready · gateway {stack.urls['gateway']} · logs {stack.log_dir}")
        rep = run_cycle(
            stack.urls["gateway"], stack.urls["bank-sim"], stack.urls["disclosure"], people=people
        )
        summary(rep, stack)
        bad = failures(rep)
        if bad:
            console.print(f"[red]失败 FAILED: {'; '.join(bad)}")
            code = 1
        elif not once:
            console.print("[bold green]平台运行中，按 Ctrl-C 停止 · running, Ctrl-C to stop")
            try:
                stopping.wait()
            except KeyboardInterrupt:
                pass
    except DemoFailure as exc:
        console.print(f"[red]演示失败 cycle failed: {exc}")
        code = 2
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]启动失败 start-up failed: {exc}")
        code = 3
    except KeyboardInterrupt:
        pass
    finally:
        console.print("停止 stopping…")
        stack.stop()
    raise typer.Exit(code)


@app.command()
def stop() -> None:
    """Stop whatever a running `make run` started."""
    n = stop_from_pidfile(RUN_DIR.resolve())
    console.print(f"stopped {n} process groups")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
