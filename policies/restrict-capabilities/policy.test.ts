import { runFixtures } from '../../test/helpers/fixtures.js';
import { fixtures } from './fixtures.js';

runFixtures('restrict-capabilities', fixtures);
