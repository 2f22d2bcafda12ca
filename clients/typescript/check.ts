// What a front end writes against the generated types. tests/api/test_clients.py generates
// schema.d.ts from the merged OpenAPI document next to this file and compiles both with
// `tsc --strict`: a status that is a bare string, a list that is not a Page, an undeclared
// error or an optional If-Match breaks the build, as it would break a front end.
import type { components, paths } from "./schema";

type Problem = components["schemas"]["Problem"];

type ProblemPage =
  paths["/api/v1/rectification/problems"]["get"]["responses"][200]["content"]["application/json"];
type ProblemRead = ProblemPage["items"][number];
type ProblemNotFound =
  paths["/api/v1/rectification/problems/{problem_id}"]["get"]["responses"][404]["content"]["application/problem+json"];
type SheetPatchHeaders = paths["/api/v1/scoring/sheets/{sheet_id}"]["patch"]["parameters"]["header"];

/** The Chinese label of a problem's status: a new status must be handled here before this compiles. */
export function statusLabel(status: ProblemRead["status"]): string {
  switch (status) {
    case "open":
      return "待整改";
    case "in_progress":
      return "整改中";
    case "submitted":
      return "待验收";
    case "returned":
      return "已退回";
    case "closed":
      return "已销号";
    case "withdrawn":
      return "已撤销";
    case "merged":
      return "已合并";
    default: {
      const unhandled: never = status;
      throw new Error(`unknown status ${String(unhandled)}`);
    }
  }
}

/** One line per problem, and where the next page starts (null on the last page). */
export function summarize(page: ProblemPage): { lines: string[]; next: number | null } {
  const lines = page.items.map((p: ProblemRead) => `${p.id} ${p.site.name} ${statusLabel(p.status)}`);
  const end: number = page.offset + page.limit;
  return { lines, next: end < page.total ? end : null };
}

/** What to show for an error answer: its status, title and every invalid field. */
export function explain(problem: Problem | ProblemNotFound): string {
  const fields = (problem.errors ?? []).map((e) => e.loc.join("."));
  const status: number = problem.status;
  return `${status} ${problem.title}: ${problem.detail}${fields.length ? ` (${fields.join(", ")})` : ""}`;
}

/** A sheet change must carry the ETag it was read with: If-Match is required, not optional. */
export function sheetPatchHeaders(etag: string): SheetPatchHeaders {
  const headers: SheetPatchHeaders = { "If-Match": etag };
  const required: string = headers["If-Match"];
  return { ...headers, "If-Match": required };
}
