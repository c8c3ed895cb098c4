/** GET /pools/:namespace/:name/why — why a pool is not at N replicas, from one live inspection. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { explainPool, PoolWhy } from '../pools/pool-why.ts';
import { NotFoundError } from '../api/errors.ts';

export const poolRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:namespace/:name/why',
    {
      schema: {
        params: Type.Object({ namespace: Type.String({ minLength: 1 }), name: Type.String({ minLength: 1 }) }),
        querystring: Type.Object({ replicas: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })) }, { additionalProperties: false }),
        response: { 200: PoolWhy },
      },
    },
    async (request) => {
      const { namespace, name } = request.params;
      const { cluster, pools } = app.neuronetes;
      const pool = cluster.view().pool(namespace, name);
      if (pool === undefined) throw new NotFoundError('AgentPool', `${namespace}/${name}`);
      const inspection = await pools.inspect(pool);
      const asked = request.query.replicas === undefined ? undefined : Number(request.query.replicas);
      return explainPool(inspection, asked, new Date().toISOString());
    },
  );
};
