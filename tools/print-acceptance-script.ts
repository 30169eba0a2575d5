/**
 * Prints the shell script of the proposal's acceptance criteria, the same one the module's `acceptance-criteria`
 * check runs in the Dagger-built image, so the harness runs it in the Podman-built one:
 * `npx tsx tools/print-acceptance-script.ts | podman exec -i CONTAINER sh`.
 */
import { acceptanceChecks, acceptanceScript } from "../dagger/src/acceptance-checks.js"

process.stdout.write(acceptanceScript(acceptanceChecks()))
