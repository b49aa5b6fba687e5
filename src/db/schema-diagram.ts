/** Entity-relationship diagrams of a schema: Mermaid text and a self-contained SVG. */
import type { TableSchema } from "./introspect.ts";

function mermaidType(type: string): string {
  return (type || "ANY").replace(/[^A-Za-z0-9_]/g, "_");
}

/** A Mermaid `erDiagram`: each table with its columns (PK/FK marked) and one edge per foreign key. */
export function mermaidDiagram(tables: readonly TableSchema[]): string {
  const lines = ["erDiagram"];
  for (const table of tables) {
    lines.push(`  ${table.name} {`);
    for (const column of table.columns) {
      const keys = [column.primaryKey ? "PK" : "", table.foreignKeys.some((k) => k.column === column.name) ? "FK" : ""]
        .filter(Boolean).join(",");
      lines.push(`    ${mermaidType(column.type)} ${column.name}${keys ? ` ${keys}` : ""}`);
    }
    lines.push("  }");
  }
  for (const table of tables) {
    for (const key of table.foreignKeys) lines.push(`  ${key.table} ||--o{ ${table.name} : "${key.column}"`);
  }
  return `${lines.join("\n")}\n`;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const ROW = 18;
const WIDTH = 240;
const GAP = 40;

/**
 * An SVG of the tables laid out in a grid (name header, one row per column,
 * keys marked), with a line from each foreign-key column to the table it
 * references. Needs no fonts or scripts beyond the viewer's sans-serif.
 */
export function svgDiagram(tables: readonly TableSchema[]): string {
  const perRow = Math.max(1, Math.ceil(Math.sqrt(tables.length)));
  const heights = tables.map((t) => ROW * (t.columns.length + 1) + 8);
  const boxes = new Map<string, { x: number; y: number; table: TableSchema }>();
  let y = GAP;
  for (let start = 0; start < tables.length; start += perRow) {
    const rowTables = tables.slice(start, start + perRow);
    rowTables.forEach((table, i) => boxes.set(table.name, { x: GAP + i * (WIDTH + GAP), y, table }));
    y += Math.max(...heights.slice(start, start + perRow)) + GAP;
  }
  const width = GAP + perRow * (WIDTH + GAP);
  const parts: string[] = [];
  for (const { x, y: top, table } of boxes.values()) {
    for (const key of table.foreignKeys) {
      const target = boxes.get(key.table);
      if (!target) continue;
      const row = table.columns.findIndex((c) => c.name === key.column);
      const fromY = top + ROW * (row + 1) + ROW / 2 + 4;
      parts.push(
        `<path d="M${x} ${fromY} C${x - GAP} ${fromY} ${target.x + WIDTH + GAP} ${target.y + ROW / 2} ${target.x + WIDTH} ${target.y + ROW / 2}" fill="none" stroke="#8a94a6" stroke-width="1.2"/>`,
      );
    }
  }
  for (const { x, y: top, table } of boxes.values()) {
    const height = ROW * (table.columns.length + 1) + 8;
    parts.push(`<g><rect x="${x}" y="${top}" width="${WIDTH}" height="${height}" rx="4" fill="#fff" stroke="#3b4a63"/>`);
    parts.push(`<rect x="${x}" y="${top}" width="${WIDTH}" height="${ROW + 4}" rx="4" fill="#3b4a63"/>`);
    parts.push(`<text x="${x + 8}" y="${top + 15}" fill="#fff" font-weight="bold">${escape(table.name)}</text>`);
    table.columns.forEach((column, i) => {
      const rowY = top + ROW * (i + 2) + 2;
      const mark = column.primaryKey ? "PK " : table.foreignKeys.some((k) => k.column === column.name) ? "FK " : "";
      parts.push(`<text x="${x + 8}" y="${rowY}">${escape(mark + column.name)}</text>`);
      parts.push(`<text x="${x + WIDTH - 8}" y="${rowY}" text-anchor="end" fill="#6b7385">${escape(column.type.toLowerCase())}</text>`);
    });
    parts.push("</g>");
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" ` +
    `font-family="sans-serif" font-size="12"><title>Database schema</title>${parts.join("")}</svg>\n`;
}
