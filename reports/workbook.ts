// The workbooks live in reports/workbook/ (the per-run one and the day workbook); this keeps the old path.
export { writeWorkbook, currencyFormat, writeDayWorkbook, type WorkbookInput, type DayWorkbookOptions, type DayWorkbookFiles } from './workbook/index.js';
