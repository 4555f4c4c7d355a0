import { runFixtures } from '../../test/helpers/fixtures.js';
import { fixtures } from './fixtures.js';

runFixtures('require-drop-all-capabilities', fixtures);
