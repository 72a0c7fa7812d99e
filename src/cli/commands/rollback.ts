/** `blackwell rollback <client> <stack> --to <version>`: an earlier desired state, published as the next version. */
import { parseArgs } from "node:util";
import { rollbackDesired } from "../../runtime/rollback.js";
import { actorName, EXIT, print, UsageError, withContext } from "../cli-kit.js";
import { ID_PATTERN as ID } from "../../core/model/validate-desired.js";

export async function rollback(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { to: { type: "string" }, by: { type: "string" }, json: { type: "boolean" } },
  });
  const [client, stack] = positionals;
  if (!client || !ID.test(client) || !stack || !ID.test(stack)) throw new UsageError("rollback needs <client> <stack>");
  if (!values.to || !/^v\d+\.\d+\.\d+$/.test(values.to))
    throw new UsageError("rollback needs --to v<major>.<minor>.<patch>");
  const result = await withContext((ctx) => rollbackDesired(ctx, client, stack, values.to!, actorName(values.by)));
  // Already at that content is success (exit 0, like `apply` of an unchanged file): the stack holds what was asked.
  print(values.json ?? false, result, () =>
    result.published
      ? `${client}/${stack}: ${result.from} -> ${result.to} (the desired state of ${result.content_of})`
      : `${client}/${stack}: already at that content (${result.from} equals ${result.content_of}); nothing published`,
  );
  return EXIT.ok;
}
