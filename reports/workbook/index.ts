export { writeWorkbook, type WorkbookInput } from './run-workbook.js';
export { currencyFormat, textCell, amountCell } from './cells.js';
export {
  writeDayWorkbook, writeDayWorkbooks, buildDayWorkbook, dayWorkbookData, forProvider, DAY_SHEETS,
  type DayWorkbookOptions, type DayWorkbookFiles, type DayWorkbookData,
} from './day-workbook.js';
export { AGE_BUCKETS } from './day-data.js';
export { daysInRange } from '../../core/time.js';
