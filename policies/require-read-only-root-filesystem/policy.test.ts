import { runFixtures } from '../../test/helpers/fixtures.js';
import { fixtures } from './fixtures.js';

runFixtures('require-read-only-root-filesystem', fixtures);
