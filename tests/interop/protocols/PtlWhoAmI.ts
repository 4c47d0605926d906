export interface ReqWhoAmI {
}

export interface ResWhoAmI {
    id: number;
    name: string;
}

export const conf = { needLogin: true };
