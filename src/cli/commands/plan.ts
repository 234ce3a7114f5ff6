// dstream plan <task>: see lifecycle.ts.
import { lifecycleCommand } from "./lifecycle.ts";

export default lifecycleCommand("plan");
