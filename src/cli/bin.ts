#!/usr/bin/env node
/** The executable behind `npx chapkit` / `bunx chapkit`: runs the command and sets the exit status. */
import process from "node:process";
import { runCli } from "./program.ts";

process.exitCode = await runCli(process.argv.slice(2));
