import type { Sql } from '../../db/database.js';
import { Decimal } from '../../core/money/index.js';
import { barChartSvg } from './bar-chart.js';
import { feesByProvider, matchRateHistory, PROVIDER_COLOURS, type FeesByCurrency, type MatchRateHistory } from './data.js';
import { lineChartSvg } from './line-chart.js';

export { barChartSvg, type Bar, type BarChartInput } from './bar-chart.js';
export { lineChartSvg, type LineChartInput, type LineSeries } from './line-chart.js';
export { feesByProvider, matchRate, matchRateHistory, PROVIDER_COLOURS, type FeesByCurrency, type MatchRateHistory } from './data.js';
export { canRenderPng, svgToPng } from './png.js';
export { escapeXml } from './svg.js';

export interface Chart {
  /** A stable name, also the file name stem and the mail's content id. */
  id: string;
  title: string;
  svg: string;
}

/** The match-rate chart: one line per provider over the window's days (labels `MM-DD`). */
export function matchRateChart(history: MatchRateHistory): Chart {
  const last = history.days[history.days.length - 1] ?? '';
  const title = `Match rate, last ${history.days.length} days to ${last}`;
  return {
    id: 'match-rate',
    title,
    svg: lineChartSvg({
      title,
      labels: history.days.map((d) => d.slice(5)),
      series: history.series.map((s) => ({ name: s.provider, points: s.points, ...(PROVIDER_COLOURS[s.provider] ? { color: PROVIDER_COLOURS[s.provider] } : {}) })),
    }),
  };
}

/** One bar chart per currency: the day's fees by provider (amounts in different currencies never share an axis). */
export function feeCharts(date: string, fees: readonly FeesByCurrency[]): Chart[] {
  return fees.map((f) => {
    const title = `Fees by provider, ${date} (${f.currency})`;
    return {
      id: `fees-${f.currency.toLowerCase().replace(/[^a-z0-9]/g, '')}`,
      title,
      svg: barChartSvg({
        title,
        // A bar's height is geometry, not money: the label carries the exact decimal.
        bars: f.providers.map((p) => ({ label: p.provider, value: new Decimal(p.fee).toNumber(), text: `${p.fee} ${f.currency}`, ...(PROVIDER_COLOURS[p.provider] ? { color: PROVIDER_COLOURS[p.provider] } : {}) })),
        format: (v) => v.toLocaleString('en-US', { maximumFractionDigits: 2 }),
      }),
    };
  });
}

export interface DayCharts {
  history: MatchRateHistory;
  fees: FeesByCurrency[];
  charts: Chart[];
}

/** The charts of a day's report and mail, with the data they were drawn from. */
export async function dayCharts(db: Sql, opts: { date: string; providers?: readonly string[]; days?: number }): Promise<DayCharts> {
  const history = await matchRateHistory(db, opts);
  const fees = await feesByProvider(db, opts);
  return { history, fees, charts: [matchRateChart(history), ...feeCharts(opts.date, fees)] };
}
