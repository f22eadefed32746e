// A small Rounds client as a frontend team would write it, typed only by what `make clients`
// generates from the committed contracts (openapi/openapi.json, openapi/schema.graphql).
// `tsc --strict` must accept it, and must refuse the requests marked @ts-expect-error: the
// published schema is as strict as the server.
import type { components, paths } from "./generated/openapi";
import type {
  CreateStoryMutation,
  CreateStoryMutationVariables,
  ProductStoriesQuery,
  ProductStoriesQueryVariables,
} from "./generated/graphql";

type Story = components["schemas"]["StoryOut"];
type StoryCreate = components["schemas"]["StoryCreate"];
type StoryUpdate = components["schemas"]["StoryUpdate"];
type Problem = components["schemas"]["Problem"];
type StoryPage =
  paths["/api/v1/stories"]["get"]["responses"][200]["content"]["application/json"];
type StoryFilters = NonNullable<paths["/api/v1/stories"]["get"]["parameters"]["query"]>;

export class RoundsError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
}

export class Rounds {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(this.baseUrl + path, {
      ...init,
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        "Content-Type": "application/json",
        ...(init.headers as Record<string, string> | undefined),
      },
    });
    if (!response.ok) throw new RoundsError((await response.json()) as Problem);
    return response;
  }

  /** Every story matching the filters, page by page (cursor pagination). */
  async *stories(filters: Omit<StoryFilters, "cursor"> = {}): AsyncGenerator<Story> {
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(filters)) {
        if (value !== undefined && value !== null) params.set(name, String(value));
      }
      if (cursor) params.set("cursor", cursor);
      const page = (await (await this.send("GET", `/api/v1/stories?${params}`)).json()) as StoryPage;
      yield* page.data;
      cursor = page.next_cursor;
    } while (cursor);
  }

  /** Create a story; the answer carries its ETag and Location. */
  async createStory(body: StoryCreate): Promise<{ story: Story; etag: string; location: string }> {
    const response = await this.send("POST", "/api/v1/stories", { body: JSON.stringify(body) });
    return {
      story: (await response.json()) as Story,
      etag: response.headers.get("ETag") ?? "",
      location: response.headers.get("Location") ?? "",
    };
  }

  /** Update a story only if nobody changed it since `etag` was read (412 otherwise). */
  async updateStory(id: string, etag: string, patch: StoryUpdate): Promise<Story> {
    const response = await this.send("PATCH", `/api/v1/stories/${encodeURIComponent(id)}`, {
      body: JSON.stringify(patch),
      headers: { "If-Match": etag },
    });
    return (await response.json()) as Story;
  }

  async graphql<TData, TVariables>(query: string, variables: TVariables): Promise<TData> {
    const response = await this.send("POST", "/graphql", {
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: TData | null; errors?: { message: string }[] };
    if (body.errors?.length || body.data === null) {
      throw new Error(body.errors?.map((e) => e.message).join("; ") ?? "no data");
    }
    return body.data;
  }
}

const PRODUCT_STORIES = /* GraphQL */ `query ProductStories($productId: ID!, $after: String, $sort: StorySort) {
  product(id: $productId) { id key stories(first: 20, after: $after, sort: $sort) { totalCount
    nodes { id key title status storyPoints roadmapItemId updatedAt }
    pageInfo { hasNextPage endCursor } } } }`;
const CREATE_STORY = /* GraphQL */ `mutation CreateStory($input: StoryCreateInput!) {
  createStory(input: $input) { id key productId status } }`;

export async function example(rounds: Rounds, productId: string): Promise<number> {
  // REST: the smallest valid StoryCreate is {product_id, title} (defaults are optional).
  const { story, etag } = await rounds.createStory({ product_id: productId, title: "Triage view" });
  await rounds.updateStory(story.id, etag, { status: "ready", story_points: 5 });
  let count = 0;
  for await (const s of rounds.stories({ product_id: productId, sort: "-updated_at", limit: 50 })) {
    count += s.story_points ?? 0;
  }
  // GraphQL: an ID read by a query feeds a mutation as is (one id type).
  const read = await rounds.graphql<ProductStoriesQuery, ProductStoriesQueryVariables>(
    PRODUCT_STORIES,
    { productId, sort: "UPDATED_AT_DESC" },
  );
  const id: string | undefined = read.product?.id;
  if (id === undefined) return count;
  const created = await rounds.graphql<CreateStoryMutation, CreateStoryMutationVariables>(
    CREATE_STORY,
    { input: { productId: id, title: "From GraphQL", status: "READY", storyPoints: 3 } },
  );
  const updatedAt: string | undefined = read.product?.stories.nodes[0]?.updatedAt;
  return count + (created.createStory.key.length > 0 ? 1 : 0) + (updatedAt ? 1 : 0);
}

// What the server refuses, the types refuse too (tsc fails if an error below disappears).
export const refused: StoryCreate[] = [
  // @ts-expect-error story points are 0, 1, 2, 3, 5, 8, 13 or 21
  { product_id: "p", title: "t", story_points: 4 },
  // @ts-expect-error a new story starts in backlog or ready
  { product_id: "p", title: "t", status: "done" },
  // @ts-expect-error title is required
  { product_id: "p" },
];
// @ts-expect-error sort takes the listed fields only
export const badSort: StoryFilters = { sort: "-bogus" };
export const badInput: CreateStoryMutationVariables = {
  // @ts-expect-error GraphQL create statuses are BACKLOG or READY
  input: { productId: "p", title: "t", status: "DONE" },
};
// @ts-expect-error GraphQL sort takes the StorySort values only
export const badGraphqlSort: ProductStoriesQueryVariables = { productId: "p", sort: "-updatedAt" };
