// The evaluation budget of one CEL program run: what its string and list concatenations may allocate.
import { celError } from '@bufbuild/cel';

/** Units (string characters, list elements) one evaluation may build by concatenation. */
export const ALLOCATION_BUDGET = 10_000_000;

let spent = 0;

// Starts a new evaluation's budget.
export function resetBudget(): void {
  spent = 0;
}

// Charges an allocation of this size; throws a CEL error when the evaluation has spent its budget.
export function charge(size: number): void {
  spent += size;
  if (spent > ALLOCATION_BUDGET) throw celError(`evaluation exceeded its allocation budget (${ALLOCATION_BUDGET} characters or list elements)`);
}
