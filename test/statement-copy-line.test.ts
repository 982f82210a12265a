import { describe, expect, it } from 'vitest';
import { Decimal } from '../core/money/index.js';
import { NumeralLine } from '../parsers/common/numeral-line.js';
import type { StatementLine } from '../parsers/contract.js';
import { isoWriter, lineText } from '../storage/statements.js';

const line = (over: Partial<StatementLine>): StatementLine => ({
  provider: 'wechatpay', type: 'payment', providerTxnId: '4200001', parentTxnId: null, merchantRef: 'WX-1', merchantOrderId: null,
  gross: new Decimal('26.64'), fee: new Decimal('0.15984'), net: new Decimal('26.48016'), currency: 'CNY',
  occurredAt: new Date('2026-11-23T16:00:00Z'), paymentMethod: 'APP', wallet: 'wechat_pay', status: 'SUCCESS', description: null,
  needsReview: false, source: { member: null, line: 2 }, extra: {}, ...over,
});

describe('a statement line as a COPY text line', () => {
  it('writes every column in order, \\N for null, keys from the ids, and the extra as JSON', () => {
    expect(lineText('7\t', 1, line({ extra: { 费率: '0.60%' } }), isoWriter())).toBe(
      '7\t1\t\\N\t2\twechatpay\tpayment\t4200001\t\\N\tWX-1\t\\N\t26.64\t0.15984\tCNY\t\\N\t\\N\t' +
        '2026-11-23T16:00:00.000Z\tAPP\twechat_pay\tSUCCESS\t\\N\tf\t4200001\tWX-1\t{"费率":"0.60%"}\n',
    );
  });

  it('escapes what COPY reads as a separator or an escape in file texts and in the JSON, and writes no empty extra', () => {
    const text = lineText('7\t', 2, line({ description: 'tab\there\nnew\\line', needsReview: true, extra: { 备注: 'a\tb "c" \\d' } }), isoWriter());
    const cols = text.slice(0, -1).split('\t');
    expect(cols).toHaveLength(24);
    expect(cols[19]).toBe('tab\\there\\nnew\\\\line');
    expect(cols[20]).toBe('t');
    expect(cols[23]).toBe('{"备注":"a\\\\tb \\\\"c\\\\" \\\\\\\\d"}');
    expect(lineText('7\t', 3, line({}), isoWriter()).endsWith('\tWX-1\t\\N\n')).toBe(true);
  });

  it("writes a NumeralLine's amounts as its file wrote them, and its Decimals are the numerals' values", () => {
    const { gross: _g, fee: _f, net: _n, ...fields } = line({});
    const numeral = new NumeralLine(fields, '-007.50', '+0.04500');
    expect(lineText('7\t', 1, numeral, isoWriter()).split('\t').slice(10, 13)).toEqual(['-007.50', '+0.04500', 'CNY']);
    expect([numeral.gross.toFixed(), numeral.fee.toFixed(), numeral.net.toFixed()]).toEqual(['-7.5', '0.045', '-7.545']);
    expect(numeral.gross).toBeInstanceOf(Decimal);
  });
});
