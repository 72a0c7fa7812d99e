/**
 * `blackwell promote <client> --from <stack> --to <stack> [--by name] [--dry-run] [--json]`: the earlier stack's
 * promoted parts as the later stack's next version, when its gates allow (src/runtime/promote.ts). A refusal exits 1
 * with every reason.
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { promote } from "../../runtime/promote.js";
import { EXIT, UsageError, print, withContext } from "../cli-kit.js";
import { ID_PATTERN as ID } from "../../core/model/validate-desired.js";

export async function promoteCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      by: { type: "string" },
      "dry-run": { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const [client, ...extra] = positionals;
  if (!client || extra.length > 0) throw new UsageError("promote needs one <client>");
  if (!values.from || !values.to) throw new UsageError("promote needs --from <stack> and --to <stack>");
  for (const id of [client, values.from, values.to])
    if (!ID.test(id)) throw new UsageError(`${JSON.stringify(id)} is not an id`);
  if (values.from === values.to) throw new UsageError("--from and --to name the same stack");
  const result = await withContext((ctx) =>
    promote(ctx, client, {
      from: values.from!,
      to: values.to!,
      by: values.by ?? process.env.BLACKWELL_USER ?? userInfo().username,
      dryRun: values["dry-run"] ?? false,
    }),
  );
  print(values.json ?? false, result, () =>
    result.to.from_version === result.to.state_version
      ? `${client}/${result.to.stack_id} already holds what ${result.from.stack_id} ${result.from.state_version} promotes: nothing published`
      : `${result.dry_run ? "would promote" : "promoted"} ${result.from.stack_id} ${result.from.state_version} to ${client}/${result.to.stack_id}: ${result.to.from_version} -> ${result.to.state_version}`,
  );
  return EXIT.ok;
}
