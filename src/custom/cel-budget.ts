// The budget of one CEL expression's evaluation: what its string and list building may allocate, and its runtime
// cost (a unit per function call and per comprehension step). Spending past either stops the evaluation with an
// error that no `||` or `&&` can absorb: the rule follows its policy's onError.
import { PortcullisError } from '../errors.js';

/** Units (string characters, list elements) one evaluation may build. */
export const ALLOCATION_BUDGET = 10_000_000;
/** Cost units one evaluation may spend: one per function call or operator, one per comprehension step (Kubernetes' per-expression limit is 1,000,000 as well). */
export const COST_BUDGET = 1_000_000;

/** Thrown when an evaluation spent its budget; CelProgram.run turns it into the rule's error. */
export class BudgetExceeded extends PortcullisError<'CEL_BUDGET_EXCEEDED'> {
  constructor(reason: string) {
    super('CEL_BUDGET_EXCEEDED', reason);
  }
}

let allocated = 0;
let cost = 0;
let exceeded: string | undefined;

// Starts a new evaluation's budget.
export function resetBudget(): void {
  allocated = 0;
  cost = 0;
  exceeded = undefined;
}

function stop(reason: string): never {
  exceeded = reason;
  throw new BudgetExceeded(reason);
}

// Charges an allocation of this size; throws when the evaluation has spent its allocation budget.
export function charge(size: number): void {
  allocated += size;
  if (allocated > ALLOCATION_BUDGET) stop(`evaluation exceeded its allocation budget (${ALLOCATION_BUDGET} characters or list elements)`);
}

// Charges cost units; throws when the evaluation has spent its cost budget.
export function spend(units: number): void {
  cost += units;
  if (cost > COST_BUDGET) stop(`evaluation exceeded its cost budget (${COST_BUDGET} function calls and comprehension steps)`);
}

// Why the current evaluation was stopped (a budget error a library function caught and returned as a value).
export function budgetExceeded(): string | undefined {
  return exceeded;
}
