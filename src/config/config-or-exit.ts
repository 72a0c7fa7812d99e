/** The composition roots' guard: a role with bad configuration says so on stderr and exits, no stack trace. */
import { isBlackwellError } from "../errors.js";

/** Exit code of a role whose configuration is refused; 1 as before this guard (an unhandled rejection). */
export const CONFIG_EXIT_CODE = 1;

/** Returns `read()`; on BLACKWELL_ERR_CONFIG prints the message, naming each bad variable, and exits. */
export function configOrExit<T>(role: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!isBlackwellError(err, "BLACKWELL_ERR_CONFIG")) throw err;
    // stderr is synchronous for files and pipes on Linux, so the message is out before the exit.
    process.stderr.write(`blackwell ${role}: ${err.message}\n`);
    process.exit(CONFIG_EXIT_CODE);
  }
}
