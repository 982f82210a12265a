import { describe, expect, it } from 'vitest';
import { StatementFormatError } from '../../core/errors.js';
import { mapHeader } from '../alipay/columns.js';
import { mapHeaderCells } from './header.js';

const TABLE = { amount: ['金额', 'Amount'], fee: ['手续费'], id: ['单号'] } as const;

describe('header mapping', () => {
  it('maps synonyms to keys and lists unknown and repeated cells in column order', () => {
    const m = mapHeaderCells(['单号', 'Amount', '备注', '金额', '', '手续费'], TABLE);
    expect([...m.columns]).toEqual([['id', { index: 0, name: '单号' }], ['amount', { index: 1, name: 'Amount' }], ['fee', { index: 5, name: '手续费' }]]);
    expect(m.unknown).toEqual([{ name: '备注', index: 2 }, { name: '', index: 4 }]);
    expect(m.duplicate).toEqual([{ name: '金额', index: 3, key: 'amount' }]);
    expect(m.named).toBe(6);
  });

  it('compares through `key`, reports what `written` says, and may skip empty cells', () => {
    const m = mapHeaderCells([' `金额 ', '\t', 'FEE'], { amount: ['金额'], fee: ['fee'] }, { written: (c) => c.trim().replace(/^`/, ''), key: (n) => n.toLowerCase(), skipEmpty: true });
    expect(m.columns.get('amount')).toEqual({ index: 0, name: '金额' });
    expect(m.columns.get('fee')).toEqual({ index: 2, name: 'FEE' });
    expect(m.unknown).toEqual([]);
    expect(m.named).toBe(2);
  });

  it('Alipay: the first wrong cell in column order is the one reported, a repeated column with its first name', () => {
    const loc = { file: 'b.csv', line: 5 };
    const fail = (cells: string[]) => {
      try {
        mapHeader(cells, TABLE, [], loc, '业务明细');
      } catch (err) {
        expect(err).toBeInstanceOf(StatementFormatError);
        return (err as StatementFormatError).message;
      }
      throw new Error('expected a rejection');
    };
    expect(fail(['金额', 'Amount', '备注'])).toMatch(/业务明细 column "Amount" appears twice \(as "金额" too\)/);
    expect(fail(['金额', '备注', 'Amount'])).toMatch(/unknown 业务明细 column "备注"/);
    expect(mapHeader(['单号', '', '金额'], TABLE, [['amount']], loc, '业务明细')).toEqual({ index: { id: 0, amount: 2 }, names: { id: '单号', amount: '金额' }, width: 3, named: 2 });
  });
});
